#!/bin/sh
# limits.sh - bounded resources: every command that reads untrusted input
# (inspect, validate, verify, unpack, info, check, convert, compare, and
# deploy up to the boot) meets inputs built to exhaust memory or time
# (tests/hardening/hostile.py) under 'ulimit -v' 256 MiB and a timeout of a
# few seconds.  Each must end by itself -- never killed by the limit or the
# timeout, never crashing (exit >= 124) -- and a hostile input must be
# refused with an error message (exit 1-3).  Inputs that are hostile only in
# size (a valid 2^55-byte disk, a 300-image chain) may also succeed.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/hardening/lib.sh"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed (qemu-utils)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
command -v timeout >/dev/null 2>&1 || skip "timeout (coreutils) is not installed"
O=$OVFDEPLOY
cd "$T_TMP" || exit 1
export OVFDEPLOY_HOME="$T_TMP/home"

VMEM_KIB=262144
TMO=${HARDEN_TIMEOUT:-5}
if sanitizer_build; then
	# ASan reserves terabytes of shadow address space up front: a limit on
	# virtual memory would kill it at start.  Only the time is bounded, with
	# room for the sanitizer's slowdown.
	echo "# sanitizer build: 'ulimit -v' not applied (ASan needs huge virtual memory); timeouts x3"
	VMEM_KIB=
	TMO=$((TMO * 3))
fi

python3 "$top_srcdir/tests/hardening/hostile.py" h "$top_srcdir/samples/tiny.ovf" >gen.log 2>&1 ||
	{ fail "hostile.py: $(tail -3 gen.log)"; done_testing; exit 1; }

# limited MODE DESC -- CMD...: run CMD under the limits.  MODE hostile: it
# must fail (1-3) with a message on stderr; MODE bounded: success is fine too.
limited() {
	mode=$1; desc=$2; shift 3
	rm -rf out.img out.dir
	(
		[ -n "$VMEM_KIB" ] && ulimit -v "$VMEM_KIB"
		exec timeout -k 2 "$TMO" "$@"
	) >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$desc: timed out after ${TMO}s"
	elif [ $rc -ge 124 ]; then
		fail "$desc: died (exit $rc)"; sed 's/^/  | /' "$T_TMP/err" | tail -5
	elif grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "$T_TMP/err"; then
		fail "$desc: sanitizer report (exit $rc)"; sed 's/^/  | /' "$T_TMP/err" | head -10
	elif [ $rc -eq 0 ] && [ "$mode" = hostile ]; then
		fail "$desc: accepted (exit 0)"
	elif [ $rc -ne 0 ] && ! grep -q . "$T_TMP/err" && ! grep -q . "$T_TMP/out"; then
		# (compare reports a difference on stdout, with exit 1)
		fail "$desc: exit $rc without an error message"
	elif [ $rc -ne 0 ] && grep -Eqi 'cannot allocate memory|out of memory' "$T_TMP/err" && [ "$mode" = hostile ]; then
		# Failing for want of memory is the limit doing the work: the
		# input should have been judged before that much was asked for.
		fail "$desc: ran out of memory rather than refusing: $(head -1 "$T_TMP/err")"
	else
		msg=$(grep -m1 'ovfdeploy:' "$T_TMP/err" || head -1 "$T_TMP/err" "$T_TMP/out")
		ok "$desc (exit $rc: $(echo "$msg" | head -1 | cut -c1-110))"
	fi
}

# ---- descriptors: inspect, validate, deploy ----------------------------------
for f in laughs deep hugeattr manynodes manydisks manyattrs bigcap bigcpu; do
	mode=hostile
	case $f in manydisks|manyattrs|bigcap|bigcpu) mode=bounded ;; esac
	limited $mode "inspect $f.ovf" -- "$O" inspect "h/$f.ovf"
	limited $mode "validate $f.ovf" -- "$O" validate "h/$f.ovf"
	limited hostile "deploy $f.ovf" -- "$O" deploy --accept-eula --name "x-$f" "h/$f.ovf"
done

# ---- packages: inspect, verify, unpack, deploy ----------------------------------
for f in laughs deep hugeattr manynodes gzbomb manymembers hugemember hugedesc paxhuge; do
	mode=hostile
	# inspect reads only the descriptor: a bomb in a disk is not its concern.
	case $f in manymembers|gzbomb) mode=bounded ;; esac
	limited $mode "inspect $f.ova" -- "$O" inspect "h/$f.ova"
	limited hostile "verify $f.ova" -- "$O" verify "h/$f.ova"
	limited hostile "unpack $f.ova" -- "$O" unpack "h/$f.ova" out.dir
	[ ! -e out.dir ] || fail "unpack $f.ova left out.dir"
	limited hostile "deploy $f.ova" -- "$O" deploy --accept-eula --name "y-$f" "h/$f.ova"
done

# ---- disk images: info, check, convert, compare ----------------------------------
for f in l1big l1max rtbig rtmax snapbig cap63 capmax hdrlen clusterbits loop-a self \
	 gdhuge gdbig gdtiny vcap63 vcapmax gtehuge grainhuge deschuge extbig extmany vast chain; do
	ext=qcow2
	[ -e "h/$f.qcow2" ] || ext=vmdk
	img=h/$f.$ext
	mode=hostile
	case $f in vast|chain) mode=bounded ;; esac
	# info shows a chain it cannot open with a warning, as qemu-img does.
	case $f in loop-a|self) limited bounded "info $f.$ext" -- "$O" info "$img" ;;
	*) limited $mode "info $f.$ext" -- "$O" info "$img" ;;
	esac
	# check exits 2 for corruption and 63 for formats it cannot check.
	limited bounded "check $f.$ext" -- "$O" check "$img"
	limited $mode "convert $f.$ext -O qcow2" -- "$O" convert -O qcow2 "$img" out.img
	limited $mode "convert $f.$ext -O raw" -- "$O" convert -O raw "$img" out.img
	limited $mode "convert $f.$ext -O vmdk -c" -- "$O" convert -O vmdk -c "$img" out.img
	limited $mode "compare $f.$ext" -- "$O" compare "$img" h/base.qcow2
done
rm -rf out.img

# ---- deploy of packages whose disk is hostile -------------------------------------
# deploy puts overlays over the package's disks before anything boots.
for f in gdhuge gdbig gdtiny vcap63 vcapmax gtehuge grainhuge deschuge l1big cap63 rtmax; do
	ext=vmdk
	[ -e "h/$f.qcow2" ] && ext=qcow2
	rm -rf app && mkdir app && cp "$top_srcdir/samples/tiny.ovf" app/ && cp "h/$f.$ext" app/tiny-disk1.vmdk
	if "$O" -q pack app/tiny.ovf -o "d-$f.ova" 2>/dev/null; then
		limited hostile "deploy with a hostile disk ($f.$ext)" -- "$O" deploy --accept-eula --name "z-$f" "d-$f.ova"
	else
		ok "pack refuses a package with $f.$ext as its disk"
	fi
done
left=$(ls -A "$OVFDEPLOY_HOME/instances" 2>/dev/null)
[ -z "$left" ] && ok "no refused deploy left an instance" || fail "instances left: $left"
done_testing
