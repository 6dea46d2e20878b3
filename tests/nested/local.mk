# tests/nested: tests that need real hardware-assisted KVM, run through
# tests/nested/run-in-guest (a nested-SVM guest of QEMU/TCG where the CPU
# has no vmx/svm; directly where it has).  See tests/nested/README.md.
TESTS += tests/nested/bed.sh
EXTRA_DIST += tests/nested/run-in-guest tests/nested/README.md tests/nested/lib.sh tests/nested/bed.sh tests/nested/boots.sh tests/nested/lifecycle.sh tests/nested/vmware.sh
TESTS += tests/nested/boots.sh tests/nested/lifecycle.sh tests/nested/vmware.sh
