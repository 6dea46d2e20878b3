noinst_LIBRARIES += src/runner/librunner.a
src_runner_librunner_a_CFLAGS = $(AM_CFLAGS) $(SLIRP_CFLAGS) $(SECCOMP_CFLAGS) $(VNCSERVER_CFLAGS)
src_runner_librunner_a_SOURCES = \
	src/runner/vm.h \
	src/runner/vmm.h \
	src/runner/virtio.h \
	src/runner/acpi.h \
	src/runner/host.c \
	src/runner/acpi.c \
	src/runner/smbios.h \
	src/runner/smbios.c \
	src/runner/sandbox.h \
	src/runner/sandbox.c \
	src/runner/linux.h \
	src/runner/linux.c \
	src/runner/linux_boot.c \
	src/runner/pvh.c \
	src/runner/hw/acpi_pm.c \
	src/runner/vm.c \
	src/runner/kvm.c \
	src/runner/control.c \
	src/runner/hw/serial.c \
	src/runner/hw/cmos.c \
	src/runner/hw/fw_cfg.c \
	src/runner/hw/misc.c \
	src/runner/hw/ps2_mouse.c \
	src/runner/hw/pci.c \
	src/runner/virtio_ring.c \
	src/runner/hw/virtio_pci.c \
	src/runner/hw/virtio_blk.c \
	src/runner/hw/blk_disk.c \
	src/runner/hw/virtio_rng.c \
	src/runner/hw/slirp_net.h \
	src/runner/hw/slirp_net.c \
	src/runner/hw/virtio_net.c \
	src/runner/hw/vmxnet3.h \
	src/runner/hw/vmxnet3.c \
	src/runner/hw/vga.c \
	src/runner/vnc.c \
	src/runner/guestrpc.h \
	src/runner/guestrpc.c \
	src/runner/hw/vmware_backdoor.c \
	src/runner/hw/scsi.h \
	src/runner/hw/scsi.c \
	src/runner/hw/pvscsi.h \
	src/runner/hw/pvscsi.c \
	src/runner/hw/lsi53c1030.h \
	src/runner/hw/lsi53c1030.c \
	src/runner/hw/ide.h \
	src/runner/hw/ide.c
# The DSDT is ASL compiled by iasl (acpica-tools) into a C array.
IASL = iasl
src/runner/dsdt.hex: $(srcdir)/src/runner/dsdt.asl
	$(AM_V_GEN)$(MKDIR_P) src/runner && $(IASL) -p src/runner/dsdt -tc $(srcdir)/src/runner/dsdt.asl >/dev/null
src/runner/librunner_a-acpi.$(OBJEXT): src/runner/dsdt.hex
CLEANFILES += src/runner/dsdt.hex src/runner/dsdt.aml
EXTRA_DIST += src/runner/dsdt.asl
RUNNER_LIBS = src/runner/librunner.a $(DISK_LIBS) $(SLIRP_LIBS) $(SECCOMP_LIBS) $(VNCSERVER_LIBS)

TESTS += tests/runner/pause.sh
check_PROGRAMS += tests/runner/test_control
tests_runner_test_control_SOURCES = tests/runner/test_control.c
tests_runner_test_control_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_control_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_control
EXTRA_DIST += tests/runner/pause.sh tests/runner/count_guest.S
TESTS += tests/runner/guests.sh tests/runner/seabios.sh tests/runner/boot_disk.sh tests/runner/full_boot.sh \
	tests/runner/msix_blk.sh tests/runner/pvh.sh tests/runner/virtio_blk.sh tests/runner/backdoor.sh \
	tests/runner/screen.sh
EXTRA_DIST += tests/runner/backdoor.sh tests/runner/backdoor_guest.S
TESTS += tests/runner/scsi_boot.sh tests/runner/pvscsi_linux.sh tests/runner/ide_boot.sh tests/runner/ide_linux.sh
EXTRA_DIST += tests/runner/ide_boot.sh tests/runner/scsi_boot.sh tests/runner/rw_mbr.S tests/runner/pvscsi_linux.sh \
	tests/runner/ide_linux.sh tests/runner/linux_disks.sh tests/runner/initramfs.sh
EXTRA_DIST += tests/runner/screen.sh tests/runner/kbd_guest.S tests/runner/vbe_mbr.S
TESTS += tests/runner/vnc_tcp.sh
EXTRA_DIST += tests/runner/vnc_tcp.sh tests/runner/mouse_guest.S
EXTRA_DIST += tests/runner/guests.sh tests/runner/seabios.sh tests/runner/boot_disk.sh tests/runner/full_boot.sh tests/runner/lib.sh \
	tests/runner/msix_blk.sh tests/runner/msix_guest.S tests/runner/pvh.sh tests/runner/pvh_guest.S tests/runner/pvh.ld \
	tests/runner/extract-vmlinux.py tests/runner/virtio_blk.sh tests/runner/blk_guest.S tests/runner/smp_guest.S tests/runner/triple_guest.S \
	tests/runner/guest.S tests/runner/guest.ld tests/runner/guest_lib.inc tests/runner/guest_start.inc tests/runner/pm32_enter.inc tests/runner/pm32_lib.inc \
	tests/runner/acpi_mbr.S tests/runner/mbr.ld tests/runner/fuzz_blk.c tests/runner/kernel.S

check_PROGRAMS += tests/runner/test_devices
tests_runner_test_devices_SOURCES = tests/runner/test_devices.c tests/runner/fakeio.h
tests_runner_test_devices_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_devices_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_devices
check_PROGRAMS += tests/runner/test_ps2_mouse
tests_runner_test_ps2_mouse_SOURCES = tests/runner/test_ps2_mouse.c tests/runner/fakeio.h
tests_runner_test_ps2_mouse_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_ps2_mouse_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_ps2_mouse

check_PROGRAMS += tests/runner/test_virtio
tests_runner_test_virtio_SOURCES = tests/runner/test_virtio.c tests/runner/fakeio.h
tests_runner_test_virtio_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_virtio_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_virtio

check_PROGRAMS += tests/runner/test_msix_pcicfg
tests_runner_test_msix_pcicfg_SOURCES = tests/runner/test_msix_pcicfg.c tests/runner/fakeio.h
tests_runner_test_msix_pcicfg_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_msix_pcicfg_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_msix_pcicfg

check_PROGRAMS += tests/runner/test_pvscsi
tests_runner_test_pvscsi_SOURCES = tests/runner/test_pvscsi.c tests/runner/fakeio.h
tests_runner_test_pvscsi_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_pvscsi_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_pvscsi

check_PROGRAMS += tests/runner/test_lsi
tests_runner_test_lsi_SOURCES = tests/runner/test_lsi.c tests/runner/fakeio.h
tests_runner_test_lsi_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_lsi_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_lsi

check_PROGRAMS += tests/runner/test_ide
tests_runner_test_ide_SOURCES = tests/runner/test_ide.c tests/runner/fakeio.h
tests_runner_test_ide_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_ide_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_ide

check_PROGRAMS += tests/runner/test_acpi
tests_runner_test_acpi_SOURCES = tests/runner/test_acpi.c tests/runner/fakeio.h
tests_runner_test_acpi_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_acpi_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_acpi

check_PROGRAMS += tests/runner/test_net
tests_runner_test_net_SOURCES = tests/runner/test_net.c tests/runner/fakeio.h tests/runner/netframe.h
tests_runner_test_net_CFLAGS = $(TEST_CFLAGS) $(SLIRP_CFLAGS)
tests_runner_test_net_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_net

check_PROGRAMS += tests/runner/test_vga
tests_runner_test_vga_SOURCES = tests/runner/test_vga.c tests/runner/fakeio.h
tests_runner_test_vga_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_vga_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_vga

check_PROGRAMS += tests/runner/test_guestrpc
tests_runner_test_guestrpc_SOURCES = tests/runner/test_guestrpc.c
tests_runner_test_guestrpc_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_guestrpc_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_guestrpc

check_PROGRAMS += tests/runner/test_vmxnet3
tests_runner_test_vmxnet3_SOURCES = tests/runner/test_vmxnet3.c tests/runner/fakeio.h tests/runner/netframe.h
tests_runner_test_vmxnet3_CFLAGS = $(TEST_CFLAGS)
tests_runner_test_vmxnet3_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/test_vmxnet3
