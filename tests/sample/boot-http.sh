#!/bin/sh
# boot-http.sh - the sample appliance with the large option's hardware and
# its OVF environment on a virtio disk (how a runner without a CD drive can
# attach it), in an ISO with plain ISO9660 names only (OVF_ENV.XML): it sees
# 2 CPUs and 512 MiB, serves its greeting over HTTP on the configured port
# (reached through a user-networking forward), stays up while oneshot is
# false, and powers off on GET /poweroff.
. "${top_srcdir:-.}/tests/sample/lib.sh"

stamp="$$ $(date +%s)"
greeting="http test $stamp <i>&</i>"
greeting_html="http test $stamp &lt;i&gt;&amp;&lt;/i&gt;"
env_iso --plain "$T_TMP/env.iso" "appliance.greeting=$greeting" appliance.http_port=8080 appliance.oneshot=false
cp "$SAMPLE_DISK" "$T_TMP/disk.raw"
port=$(free_port)
c=$T_TMP/console
qemu_start "$c" "$T_TMP/disk.raw" -smp 2 -m 512 \
	-drive "file=$T_TMP/env.iso,if=virtio,format=raw,readonly=on" \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=n0
if wait_line "$c" "APPLIANCE READY" "$BOOT_TIMEOUT"; then ok "the appliance is ready"
else fail "no APPLIANCE READY within $BOOT_TIMEOUT s"; console "$c"; fi
check_line "$c" "OVF environment found on /dev/vdb" "the environment is found on a virtio disk"
check_line "$c" "property appliance.greeting=$greeting" "the greeting is printed"
if grep -Eq "^cpus=2 memory_kib=[0-9]+ ram_mib=512" "$c"; then ok "the guest sees 2 CPUs and 512 MiB"
else fail "the guest does not report 2 CPUs and 512 MiB"; console "$c"; fi
check_line "$c" "tiny: serving HTTP on port 8080" "httpd listens on the configured port"
if http_get "http://127.0.0.1:$port/" >"$T_TMP/page" 2>"$T_TMP/err"; then ok "GET / answers"
else fail "GET / failed: $(cat "$T_TMP/err")"; fi
expect_grep "<h1>$greeting_html</h1>" "$T_TMP/page" "the page shows the greeting, HTML-escaped"
if http_get "http://127.0.0.1:$port/greeting.txt" >"$T_TMP/text" 2>"$T_TMP/err" &&
	[ "$(cat "$T_TMP/text")" = "$greeting" ]; then ok "GET /greeting.txt gives the greeting as is"
else fail "GET /greeting.txt: '$(cat "$T_TMP/text")' $(cat "$T_TMP/err")"; fi
if kill -0 "$QEMU_PID" 2>/dev/null; then ok "oneshot=false keeps the appliance running"
else fail "the appliance stopped without being asked"; fi
if http_get "http://127.0.0.1:$port/poweroff" >"$T_TMP/page" 2>"$T_TMP/err"; then ok "GET /poweroff answers"
else fail "GET /poweroff failed: $(cat "$T_TMP/err")"; fi
expect_grep "powering off" "$T_TMP/page" "GET /poweroff says it powers off"
if qemu_wait 60; then ok "QEMU exits after GET /poweroff"
else fail "QEMU still runs 60 s after GET /poweroff"; console "$c"; fi
check_line "$c" "powering off (HTTP request)" "the console tells why it powers off"
done_testing
