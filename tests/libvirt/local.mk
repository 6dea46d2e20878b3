# tests/libvirt: `--connect` against a private, unprivileged libvirtd that
# each script starts and stops (lvlib.sh); they skip without root or libvirtd.
TESTS += tests/libvirt/deploy.sh tests/libvirt/errors.sh tests/libvirt/ssh.sh tests/libvirt/collection.sh tests/libvirt/vmware-hw.sh tests/libvirt/efi.sh
EXTRA_DIST += tests/libvirt/deploy.sh tests/libvirt/errors.sh tests/libvirt/ssh.sh tests/libvirt/collection.sh tests/libvirt/vmware-hw.sh tests/libvirt/efi.sh tests/libvirt/lvlib.sh
