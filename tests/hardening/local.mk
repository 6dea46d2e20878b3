# Hardening (issue #7): crash consistency under SIGKILL, bounded memory and
# time on hostile inputs, and valgrind memcheck over the CLI.
TESTS += tests/hardening/crash.sh tests/hardening/limits.sh tests/hardening/valgrind.sh
EXTRA_DIST += tests/hardening/crash.sh tests/hardening/limits.sh tests/hardening/valgrind.sh \
	tests/hardening/lib.sh tests/hardening/hostile.py
