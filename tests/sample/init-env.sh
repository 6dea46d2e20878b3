#!/bin/sh
# init-env.sh - the OVF environment parser of the sample's /init, run with
# busybox sh on the host: any namespace prefix, either quote, attributes in
# either order and over several lines, the XML entities decoded once, other
# systems' Entity sections ignored.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v busybox >/dev/null 2>&1 || skip "busybox not found (Debian package busybox-static)"
init=$top_srcdir/samples/tiny/init
sed -n -e '/^xml_attr() {/,/^}$/p' -e '/^xml_decode() {/,/^}$/p' -e '/^xml_props() {/,/^}$/p' "$init" >"$T_TMP/fns"
[ "$(grep -c '^}$' "$T_TMP/fns")" -eq 3 ] && ok "the parser is found in /init" || fail "xml_attr/xml_decode/xml_props not found in $init"

# parse DESCRIPTION EXPECTED < DOCUMENT
parse() {
	cat >"$T_TMP/env.xml"
	busybox sh -c ". '$T_TMP/fns'; xml_props '$T_TMP/env.xml'" >"$T_TMP/got" 2>&1
	printf '%s\n' "$2" >"$T_TMP/want"
	if cmp -s "$T_TMP/got" "$T_TMP/want"; then ok "$1"
	else fail "$1"; diff "$T_TMP/want" "$T_TMP/got" | sed 's/^/  | /'; fi
}

parse "the document our deploy writes" 'appliance.greeting=Hello
appliance.http_port=8080
appliance.oneshot=true' <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"
    xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="tiny">
  <PlatformSection><Kind>ovfdeploy</Kind><Version>0.1</Version></PlatformSection>
  <PropertySection>
    <Property oe:key="appliance.greeting" oe:value="Hello"/>
    <Property oe:key="appliance.http_port" oe:value="8080"/>
    <Property oe:key="appliance.oneshot" oe:value="true"/>
  </PropertySection>
</Environment>
XML

parse "entities are decoded once" "appliance.greeting=<b>&amp; \"q\" it's 'x' a>b & c & &lt; d e" <<'XML'
<Environment xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection>
<Property oe:key="appliance.greeting" oe:value="&lt;b&gt;&amp;amp; &quot;q&quot; it's &apos;x&apos; a>b &#38; c &#x26; &amp;lt; d&#10;e"/>
</PropertySection></Environment>
XML

parse "another prefix, single quotes, value first, several lines" 'appliance.greeting=He said "hi"
appliance.http_port=81' <<'XML'
<ovfenv:Environment xmlns:ovfenv="http://schemas.dmtf.org/ovf/environment/1">
<ovfenv:PropertySection>
  <ovfenv:Property ovfenv:value='He said "hi"'
                   ovfenv:key='appliance.greeting' />
  <ovfenv:Property ovfenv:key = "appliance.http_port" ovfenv:value = "81"></ovfenv:Property>
</ovfenv:PropertySection>
</ovfenv:Environment>
XML

parse "an empty value is kept" 'appliance.greeting=' <<'XML'
<Environment xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection>
<Property oe:key="appliance.greeting" oe:value=""/></PropertySection></Environment>
XML

parse "the Entity sections of other systems are ignored" 'appliance.greeting=mine' <<'XML'
<Environment xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="tiny">
<PropertySection><Property oe:key="appliance.greeting" oe:value="mine"/></PropertySection>
<Entity oe:id="other"><PropertySection>
<Property oe:key="appliance.greeting" oe:value="theirs"/></PropertySection></Entity>
</Environment>
XML
done_testing
