#!/bin/sh
# busybox httpd runs /cgi-bin/index.cgi for a URL ending in "/" that has no
# index.html, and answers GET /poweroff with a redirect to /poweroff/ (the
# directory /www/poweroff exists for that).  So /poweroff (followed) and
# /poweroff/ power off; any other such URL is not found.
case $REQUEST_URI in
/poweroff/|/poweroff/\?*)
	exec /www/cgi-bin/poweroff
	;;
esac
printf 'Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found\n'
