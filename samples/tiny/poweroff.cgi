#!/bin/sh
# GET /cgi-bin/poweroff: answer first, then power off.  The power-off runs
# detached from the request (its output elsewhere) so that httpd can finish
# the reply before the machine goes away.
printf 'Content-Type: text/plain\r\n\r\n'
echo "powering off"
setsid sh -c 'sleep 1; exec /bin/appliance-shutdown "HTTP request"' </dev/null >/dev/null 2>&1 &
exit 0
