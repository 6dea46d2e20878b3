/* test_hwplan.c - the hardware plan (src/deploy/hwplan.c) from many
 * descriptors: controllers, disks and CD-ROMs on their slots, the boot disk,
 * the OVF environment CD's place, NIC models, hostile addresses; what QEMU
 * makes of it (command line, SeaBIOS build); and the real-world descriptors
 * of ../shared when present. */
#include "config.h"
#include "deploy/deploy.h"
#include "hwplan_fixture.h"
#include "home_fixture.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct hwplan_ctrl *ctrl_of(const struct fixture *f, size_t disk)
{
	ck_assert_uint_lt(disk, f->p.ndisks);
	ck_assert_uint_ne(f->p.disks[disk].ctrl, HWPLAN_NONE);
	return &f->p.ctrls[f->p.disks[disk].ctrl];
}

/* VMware's usual export: PVSCSI disk, two IDE channels, a CD-ROM on the
 * secondary master, VMXNET3. */
START_TEST(test_vmware_pvscsi_ide_cd)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("3", "6", "VirtualSCSI", "0") CTRL("4", "5", "", "0") CTRL("5", "5", "", "1")
				      DISK("6", "d1", "3", "0") CDROM("7", "5", "0") NIC("8", "VmxNet3"),
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_uint_eq(f.p.nctrls, 3);
	ck_assert_int_eq(f.p.ctrls[0].model, HW_CTRL_PVSCSI);
	ck_assert_int_eq(f.p.ctrls[1].model, HW_CTRL_IDE);
	ck_assert_uint_eq(f.p.ctrls[1].index, 0);
	ck_assert_uint_eq(f.p.ctrls[2].index, 1);
	ck_assert_uint_eq(f.p.ndisks, 2);
	ck_assert_int_eq(ctrl_of(&f, 0)->model, HW_CTRL_PVSCSI);
	ck_assert_uint_eq(f.p.disks[0].unit, 0);
	ck_assert(f.p.disks[0].boot);
	ck_assert_uint_eq(f.p.boot, 0);
	/* the environment goes into the described CD-ROM drive */
	ck_assert_uint_eq(f.p.env, 1);
	ck_assert(f.p.disks[1].cdrom && f.p.disks[1].env);
	ck_assert_int_eq(ctrl_of(&f, 1)->model, HW_CTRL_IDE);
	ck_assert_uint_eq(ctrl_of(&f, 1)->index, 1);
	ck_assert_uint_eq(f.p.disks[1].unit, 0);
	ck_assert_uint_eq(f.p.nnics, 1);
	ck_assert_int_eq(f.p.nics[0].model, HW_NIC_VMXNET3);
	ck_assert_uint_eq(f.p.notes.n, 0);
	/* the embedded runner has the IDE too: the CD stays there */
	ck_assert_ptr_null(hwplan_embedded_cd_bus(&f.p));
	unplan(&f);
	/* where the environment CD goes on the embedded runner: it stays on a
	 * controller the runner gives (IDE, SCSI); from SATA, which the runner
	 * lacks, it joins the disks on theirs */
	static const struct {
		const char *hw, *bus;
	} cd[] = {
		{CTRL("3", "6", "lsilogic", "0") CTRL("4", "5", "", "0") CTRL("5", "5", "", "1") DISK("6", "d1", "3", "0")
			 CDROM("7", "5", "0"),
		 NULL},
		/* the LSI Logic's stand-in, for now */
		{CTRL("3", "6", "lsilogic", "0") CTRL("4", "20", "vmware.sata.ahci", "0") DISK("6", "d1", "3", "0")
			 CDROM("7", "4", "0"),
		 "pvscsi"},
		{CTRL("3", "5", "", "0") CTRL("4", "20", "vmware.sata.ahci", "0") DISK("6", "d1", "3", "0") CDROM("7", "4", "0"),
		 "ide"},
		/* a disk on IDE only, the CD beside it */
		{CTRL("4", "5", "", "0") DISK("6", "d1", "4", "0") CDROM("7", "4", "1"), NULL},
	};
	for (size_t i = 0; i < sizeof cd / sizeof cd[0]; i++) {
		ck_assert_int_eq(plan(&f, cd[i].hw, HW_DESCRIBED, &e), 0);
		const char *bus = hwplan_embedded_cd_bus(&f.p);
		ck_assert_msg(cd[i].bus ? bus && !strcmp(bus, cd[i].bus) : !bus, "case %zu: %s", i, bus ? bus : "stays");
		ck_assert(hwplan_embedded_cd_moves(&f.p) == (cd[i].bus != NULL));
		unplan(&f);
	}
}
END_TEST

/* Only SCSI: the environment CD becomes a SCSI CD-ROM on a free target. */
START_TEST(test_scsi_only_env_cd)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f, CTRL("3", "6", "lsilogic", "0") DISK("4", "d1", "3", "0") DISK("5", "d2", "3", "1"),
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_uint_eq(f.p.ndisks, 3);
	ck_assert_uint_eq(f.p.env, 2);
	ck_assert_uint_eq(f.p.disks[2].hw_disk, HWPLAN_NONE);
	ck_assert_int_eq(ctrl_of(&f, 2)->model, HW_CTRL_LSILOGIC);
	ck_assert_uint_eq(f.p.disks[2].unit, 2);
	unplan(&f);
}
END_TEST

/* No controllers: disks are virtio-blk, the CD goes on the machine's IDE. */
START_TEST(test_no_controllers)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      "<Item><rasd:ElementName>x</rasd:ElementName><rasd:HostResource>ovf:/disk/d1</rasd:HostResource>"
			      "<rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>",
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_uint_eq(f.p.ndisks, 2);
	ck_assert_uint_eq(f.p.disks[0].ctrl, HWPLAN_NONE);
	ck_assert(f.p.disks[0].boot);
	ck_assert_int_eq(ctrl_of(&f, 1)->model, HW_CTRL_IDE);
	ck_assert_ptr_null(ctrl_of(&f, 1)->item);
	ck_assert_uint_eq(ctrl_of(&f, 1)->index, 1);
	unplan(&f);
}
END_TEST

/* --hardware virtio: today's paravirtual machine. */
START_TEST(test_virtio_mode)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("3", "6", "VirtualSCSI", "0") CTRL("5", "5", "", "1") DISK("6", "d1", "3", "0")
				      CDROM("7", "5", "0") NIC("8", "E1000"),
			      HW_VIRTIO, &e),
			 0);
	ck_assert_uint_eq(f.p.nctrls, 0);
	ck_assert_uint_eq(f.p.ndisks, 1);
	ck_assert_uint_eq(f.p.disks[0].ctrl, HWPLAN_NONE);
	ck_assert_uint_eq(f.p.env, HWPLAN_NONE);
	ck_assert_int_eq(f.p.nics[0].model, HW_NIC_VIRTIO);
	unplan(&f);
}
END_TEST

/* Two disks claim one slot, one names a slot the controller lacks, one an
 * absurd number: the first keeps its slot, the others take free ones, and
 * each move is a note. */
START_TEST(test_slot_conflicts)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("3", "5", "PIIX4", "0") DISK("4", "d1", "3", "1") DISK("5", "d2", "3", "1")
				      CTRL("6", "6", "VirtualSCSI", "0") DISK("7", "d3", "6", "99")
					      DISK("8", "d4", "6", "18446744073709551617"),
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_uint_eq(f.p.ndisks, 5);
	ck_assert_uint_eq(f.p.disks[0].unit, 1); /* d1 keeps the slave slot */
	ck_assert_uint_eq(f.p.disks[1].unit, 0); /* d2 moves to the master */
	ck_assert_uint_eq(f.p.disks[2].unit, 0);
	ck_assert_uint_eq(f.p.disks[3].unit, 1);
	ck_assert(f.p.disks[0].boot); /* document order decides the boot disk */
	ck_assert_uint_ge(f.p.notes.n, 3);
	/* the IDE channel is full: the environment CD goes on the other one */
	ck_assert_int_eq(ctrl_of(&f, f.p.env)->model, HW_CTRL_IDE);
	ck_assert_uint_eq(ctrl_of(&f, f.p.env)->index, 1);
	unplan(&f);
}
END_TEST

START_TEST(test_ide_full_is_an_error)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("3", "5", "", "0") DISK("4", "d1", "3", "0") DISK("5", "d2", "3", "1")
				      DISK("6", "d3", "3", "0"),
			      HW_DESCRIBED, &e),
			 -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no free slot"));
	unplan(&f);
}
END_TEST

START_TEST(test_three_ide_controllers)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f, CTRL("3", "5", "", "0") CTRL("4", "5", "", "1") CTRL("5", "5", "", "0"), HW_DESCRIBED,
			      &e),
			 -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "two IDE"));
	unplan(&f);
}
END_TEST

START_TEST(test_too_many_controllers)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("1", "6", "VirtualSCSI", "0") CTRL("2", "6", "VirtualSCSI", "1")
				      CTRL("3", "6", "VirtualSCSI", "2") CTRL("4", "6", "VirtualSCSI", "3")
					      CTRL("5", "6", "lsilogic", "0") CTRL("6", "6", "lsilogic", "1")
						      CTRL("7", "20", "AHCI", "0") CTRL("8", "20", "AHCI", "1")
							      CTRL("9", "20", "AHCI", "2"),
			      HW_DESCRIBED, &e),
			 -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "more than 8"));
	unplan(&f);
}
END_TEST

/* VMware's SATA and NVMe, SCSI subtypes, unknown ones. */
START_TEST(test_models)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("1", "20", "vmware.sata.ahci", "0") CTRL("2", "20", "vmware.nvme.controller", "0")
				      CTRL("3", "6", "lsilogicsas", "0") CTRL("4", "6", "BusLogic", "1")
					      CTRL("5", "6", "frobnicator", "2") DISK("10", "d1", "2", "0")
						      DISK("11", "d2", "1", "3") CDROM("12", "1", "0") NIC("20", "e1000e")
							      NIC("21", "PCNet32") NIC("22", "VmxNet2") NIC("23", "E1000")
								      NIC("24", "VirtIO") NIC("25", "Token-Ring"),
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_int_eq(f.p.ctrls[0].model, HW_CTRL_AHCI);
	ck_assert_int_eq(f.p.ctrls[1].model, HW_CTRL_NVME);
	ck_assert_int_eq(f.p.ctrls[2].model, HW_CTRL_LSISAS);
	ck_assert_int_eq(f.p.ctrls[3].model, HW_CTRL_BUSLOGIC);
	ck_assert_int_eq(f.p.ctrls[4].model, HW_CTRL_LSILOGIC); /* unknown: VMware's default, with a note */
	ck_assert_int_eq(ctrl_of(&f, 0)->model, HW_CTRL_NVME);
	ck_assert(f.p.disks[0].boot);
	ck_assert_int_eq(ctrl_of(&f, 1)->model, HW_CTRL_AHCI);
	ck_assert_uint_eq(f.p.disks[1].unit, 3);
	ck_assert(f.p.disks[2].env);
	ck_assert_int_eq(ctrl_of(&f, 2)->model, HW_CTRL_AHCI);
	static const enum hw_nic_model want[] = {HW_NIC_E1000E, HW_NIC_PCNET32, HW_NIC_VMXNET2,
						 HW_NIC_E1000, HW_NIC_VIRTIO, HW_NIC_VIRTIO};
	ck_assert_uint_eq(f.p.nnics, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(f.p.nics[i].model, want[i]);
	ck_assert_uint_eq(f.p.notes.n, 2); /* frobnicator, Token-Ring */
	unplan(&f);
}
END_TEST

/* A floppy drive, empty or with an image, is no disk; a CD-ROM whose Parent
 * is no controller we plan is left out (the environment goes elsewhere). */
START_TEST(test_floppy_and_stray_cd)
{
	struct fixture f;
	od_err e = {0};
	ck_assert_int_eq(plan(&f,
			      CTRL("3", "6", "VirtualSCSI", "0") DISK("4", "d1", "3", "0")
			      "<Item><rasd:ElementName>fd</rasd:ElementName><rasd:HostResource>ovf:/disk/d2</rasd:HostResource>"
			      "<rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType></Item>\n"
			      "<Item><rasd:ElementName>fd0</rasd:ElementName><rasd:InstanceID>6</rasd:InstanceID>"
			      "<rasd:ResourceType>14</rasd:ResourceType></Item>\n"
			      CTRL("7", "23", "", "0") CDROM("8", "7", "0"),
			      HW_DESCRIBED, &e),
			 0);
	ck_assert_uint_eq(f.p.ndisks, 2); /* d1 and the added environment CD */
	ck_assert_uint_eq(f.p.disks[0].hw_disk, 0);
	ck_assert_uint_eq(f.p.disks[1].hw_disk, HWPLAN_NONE);
	ck_assert_int_eq(ctrl_of(&f, 1)->model, HW_CTRL_PVSCSI); /* SCSI only: a SCSI CD-ROM */
	unplan(&f);
}
END_TEST

/* Per backend: what is exact, what stands in, and the guest's driver. */
START_TEST(test_choices)
{
	struct hw_choice c;
	hw_ctrl_choice(HW_CTRL_PVSCSI, DEPLOY_BACKEND_QEMU, &c);
	ck_assert(c.exact);
	ck_assert_str_eq(c.device, "pvscsi");
	ck_assert_str_eq(c.driver, "vmw_pvscsi");
	hw_ctrl_choice(HW_CTRL_LSILOGIC, DEPLOY_BACKEND_QEMU, &c);
	ck_assert(!c.exact);
	ck_assert_ptr_nonnull(c.why);
	ck_assert_ptr_nonnull(strstr(c.why, "53C1030"));
	hw_ctrl_choice(HW_CTRL_AHCI, DEPLOY_BACKEND_QEMU, &c);
	ck_assert_str_eq(c.device, "ich9-ahci");
	hw_nic_choice(HW_NIC_VMXNET3, DEPLOY_BACKEND_QEMU, &c);
	ck_assert(c.exact);
	ck_assert_str_eq(c.device, "vmxnet3");
	hw_nic_choice(HW_NIC_VMXNET2, DEPLOY_BACKEND_QEMU, &c);
	ck_assert(!c.exact);
	/* the embedded runner: its PVSCSI exactly, and for every VMware SCSI
	 * model (its 53C1030 is not yet trusted to boot through SeaBIOS) */
	hw_ctrl_choice(HW_CTRL_PVSCSI, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(c.exact);
	ck_assert_str_eq(c.device, "pvscsi");
	hw_ctrl_choice(HW_CTRL_LSILOGIC, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(!c.exact);
	ck_assert_str_eq(c.device, "pvscsi");
	ck_assert_str_eq(c.driver, "vmw_pvscsi");
	ck_assert_ptr_nonnull(strstr(c.why, "mptspi"));
	hw_ctrl_choice(HW_CTRL_BUSLOGIC, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(!c.exact);
	ck_assert_str_eq(c.device, "pvscsi");
	hw_ctrl_choice(HW_CTRL_LSISAS, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert_str_eq(c.device, "pvscsi");
	hw_ctrl_choice(HW_CTRL_IDE, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(c.exact);
	ck_assert_str_eq(c.device, "ide");
	ck_assert_str_eq(c.driver, "ata_piix");
	/* its VMXNET3 exactly; the other NIC models get virtio-net */
	hw_nic_choice(HW_NIC_VMXNET3, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(c.exact);
	ck_assert_str_eq(c.device, "vmxnet3");
	ck_assert_str_eq(c.driver, "vmxnet3");
	hw_nic_choice(HW_NIC_E1000, DEPLOY_BACKEND_EMBEDDED, &c);
	ck_assert(!c.exact);
	ck_assert_str_eq(c.device, "virtio-net");
	for (int m = 0; m < HW_CTRL_NMODELS; m++) {
		hw_ctrl_choice((enum hw_ctrl_model)m, DEPLOY_BACKEND_EMBEDDED, &c);
		ck_assert_ptr_nonnull(c.device);
		ck_assert_ptr_nonnull(c.driver);
		ck_assert(c.exact || c.why);
		enum hw_ctrl_model back;
		ck_assert_int_eq(hw_ctrl_parse(hw_ctrl_name((enum hw_ctrl_model)m), &back), 0);
		ck_assert_int_eq(back, m);
	}
	for (int m = 0; m < HW_NIC_NMODELS; m++) {
		hw_nic_choice((enum hw_nic_model)m, DEPLOY_BACKEND_QEMU, &c);
		ck_assert(c.exact || c.why);
		enum hw_nic_model back;
		ck_assert_int_eq(hw_nic_parse(hw_nic_name((enum hw_nic_model)m), &back), 0);
		ck_assert_int_eq(back, m);
	}
	/* out-of-range models fall back rather than index past the tables */
	hw_ctrl_choice((enum hw_ctrl_model)999, DEPLOY_BACKEND_QEMU, &c);
	ck_assert_str_eq(c.device, "virtio-blk-pci");
	enum hw_mode mode;
	od_err e;
	ck_assert_int_eq(hw_mode_parse("virtio", &mode, &e), 0);
	ck_assert_int_eq(mode, HW_VIRTIO);
	ck_assert_int_eq(hw_mode_parse("vmware", &mode, &e), -1);
}
END_TEST

/* ---- the QEMU command line ---------------------------------------------------- */

static const char *arg_after(const struct qemu_argv *a, const char *opt, const char *prefix)
{
	for (size_t i = 0; i + 1 < a->argc; i++)
		if (!strcmp(a->argv[i], opt) && !strncmp(a->argv[i + 1], prefix, strlen(prefix)))
			return a->argv[i + 1];
	return NULL;
}

START_TEST(test_qemu_devices)
{
	struct vmspec s = {.cpus = 1, .memory = 256u << 20};
	s.ctrls[0] = (struct vmspec_ctrl){HW_CTRL_PVSCSI, 0};
	s.ctrls[1] = (struct vmspec_ctrl){HW_CTRL_IDE, 1};
	s.ctrls[2] = (struct vmspec_ctrl){HW_CTRL_AHCI, 0};
	s.ctrls[3] = (struct vmspec_ctrl){HW_CTRL_NVME, 0};
	s.ctrls[4] = (struct vmspec_ctrl){HW_CTRL_LSILOGIC, 0};
	s.nctrls = 5;
	s.disks[0] = (struct vmspec_disk){.path = "/x/d0.qcow2", .format = "qcow2", .on_ctrl = true, .ctrl = 0, .unit = 3};
	s.disks[1] = (struct vmspec_disk){.path = "/x/d1.qcow2", .format = "qcow2", .on_ctrl = true, .ctrl = 2, .unit = 1};
	s.disks[2] = (struct vmspec_disk){.path = "/x/d2.qcow2", .format = "qcow2", .on_ctrl = true, .ctrl = 3, .unit = 0};
	s.disks[3] = (struct vmspec_disk){.path = "/x/d3.qcow2", .format = "qcow2"};
	s.disks[4] = (struct vmspec_disk){.path = "/x/d4.qcow2", .format = "qcow2", .on_ctrl = true, .ctrl = 4, .unit = 0};
	s.ndisks = 5;
	s.cdrom = "/x/env.iso";
	s.cdrom_on_ctrl = true;
	s.cdrom_ctrl = 1;
	s.cdrom_unit = 0;
	s.nics[0] = (struct vmspec_nic){.user = true, .model = HW_NIC_VMXNET3};
	s.nics[1] = (struct vmspec_nic){.user = true, .model = HW_NIC_VMXNET2};
	s.nnics = 2;
	struct qemu_argv a;
	od_err e;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), 0);
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "pvscsi,id=ctrl0"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "ich9-ahci,id=ctrl2"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "nvme,id=ctrl3,serial="));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "pvscsi,id=ctrl4")); /* lsilogic's stand-in */
	ck_assert_ptr_null(arg_after(&a, "-device", "piix3-ide")); /* the pc machine's own */
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "scsi-hd,drive=disk0,bus=ctrl0.0,channel=0,scsi-id=3,lun=0,bootindex=0"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "ide-hd,drive=disk1,bus=ctrl2.1,bootindex=1"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "nvme-ns,drive=disk2,bus=ctrl3,nsid=1,bootindex=2"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "virtio-blk-pci,drive=disk3,bootindex=3"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "scsi-hd,drive=disk4,bus=ctrl4.0"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "ide-cd,drive=envcd,bus=ide.1,unit=0,bootindex=5"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "vmxnet3,netdev=net0"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "e1000,netdev=net1"));
	/* the boot disk is on PVSCSI: SeaBIOS's 256 KiB build, which drives it */
	ck_assert_ptr_nonnull(arg_after(&a, "-bios", "bios-256k.bin"));
	qemu_argv_free(&a);

	/* booting from IDE needs no special firmware; a given one is kept */
	s.disks[0].ctrl = 1;
	s.disks[0].unit = 1;
	s.cdrom_on_ctrl = false;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), 0);
	ck_assert_ptr_null(arg_after(&a, "-bios", ""));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "ide-hd,drive=disk0,bus=ide.1,unit=1,bootindex=0"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "ide-cd,drive=envcd"));
	qemu_argv_free(&a);

	/* a slot or controller that does not exist is refused, not passed on */
	s.disks[0].unit = 2;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), -1);
	s.disks[0].unit = 0;
	s.disks[0].ctrl = 7;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), -1);
}
END_TEST

/* ---- instance.conf keeps the plan ---------------------------------------------- */

START_TEST(test_instance_roundtrip)
{
	od_err e;
	struct instance in = {0};
	in.name = strdup("vm");
	in.package = strdup("/srv/vm.ova");
	ck_assert_int_eq(instance_create(&in, &e), 0);
	struct vmspec *s = &in.spec;
	s->cpus = 1;
	s->memory = 256ull << 20;
	s->ctrls[0] = (struct vmspec_ctrl){HW_CTRL_PVSCSI, 0};
	s->ctrls[1] = (struct vmspec_ctrl){HW_CTRL_IDE, 1};
	s->nctrls = 2;
	s->disks[0] = (struct vmspec_disk){.path = strdup("/x/d0.qcow2"), .format = strdup("qcow2"), .on_ctrl = true,
					   .ctrl = 0, .unit = 5};
	s->disks[1] = (struct vmspec_disk){.path = strdup("/x/d1.qcow2"), .format = strdup("qcow2")};
	s->ndisks = 2;
	s->cdrom = strdup("/x/env.iso");
	s->cdrom_on_ctrl = true;
	s->cdrom_ctrl = 1;
	s->cdrom_unit = 1;
	s->nics[0] = (struct vmspec_nic){.network = strdup("lan"), .user = true, .model = HW_NIC_VMXNET3};
	s->nics[1] = (struct vmspec_nic){.network = strdup("lan"), .user = true, .model = HW_NIC_PCNET32};
	s->nnics = 2;
	ck_assert_int_eq(instance_save(&in, &e), 0);
	struct instance back;
	int rc = instance_load("vm", &back, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_uint_eq(back.spec.nctrls, 2);
	ck_assert_int_eq(back.spec.ctrls[0].model, HW_CTRL_PVSCSI);
	ck_assert_int_eq(back.spec.ctrls[1].model, HW_CTRL_IDE);
	ck_assert_uint_eq(back.spec.ctrls[1].index, 1);
	ck_assert(back.spec.disks[0].on_ctrl);
	ck_assert_uint_eq(back.spec.disks[0].unit, 5);
	ck_assert(!back.spec.disks[1].on_ctrl);
	ck_assert(back.spec.cdrom_on_ctrl);
	ck_assert_uint_eq(back.spec.cdrom_ctrl, 1);
	ck_assert_uint_eq(back.spec.cdrom_unit, 1);
	ck_assert_int_eq(back.spec.nics[0].model, HW_NIC_VMXNET3);
	ck_assert_int_eq(back.spec.nics[1].model, HW_NIC_PCNET32);
	instance_free(&back);
	instance_free(&in);
}
END_TEST

/* A hand-edited (or hostile) instance.conf cannot place a disk on a
 * controller or slot that does not exist, nor name an unknown model. */
START_TEST(test_instance_hostile)
{
	od_err e;
	struct instance in;
	char *root = instance_root(&e);
	ck_assert_ptr_nonnull(root);
	free(root);
	static const char *const bad[] = {
		"disk.0.path=/x\ndisk.0.ctrl=0\n",                                      /* no controller 0 */
		"ctrl.0.model=pvscsi\ndisk.0.path=/x\ndisk.0.ctrl=0\ndisk.0.unit=16\n", /* no target 16 */
		"ctrl.0.model=ide\ndisk.0.path=/x\ndisk.0.ctrl=0\ndisk.0.unit=2\n",     /* IDE has 2 */
		"ctrl.0.model=scsi-9000\n",
		"ctrl.8.model=ide\n",
		"ctrl.0.model=ide\nctrl.0.index=2\n",
		"nic.0.model=tokenring\n",
		"ctrl.0.model=ide\ncdrom=/x.iso\ncdrom.ctrl=0\ncdrom.unit=7\n",
		"disk.0.path=/x\ndisk.0.ctrl=99999999999999999999\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[16], text[512];
		snprintf(name, sizeof name, "b%zu", i);
		snprintf(text, sizeof text, "name=%s\ncpus=1\nmemory=1048576\n%s", name, bad[i]);
		write_conf(name, text);
		ck_assert_msg(instance_load(name, &in, &e) == -1, "accepted: %s", bad[i]);
	}
	write_conf("ok", "name=ok\ncpus=1\nmemory=1048576\nctrl.0.model=ahci\ndisk.0.path=/x\ndisk.0.ctrl=0\ndisk.0.unit=5\n");
	ck_assert_int_eq(instance_load("ok", &in, &e), 0);
	instance_free(&in);
}
END_TEST

/* ---- real-world descriptors (../shared) ------------------------------------------ */

static ovf_envelope *shared_file(const char *name)
{
	const char *shared = getenv("OVFDEPLOY_SHARED");
	const char *top = getenv("top_srcdir");
	char path[4096];
	if (shared && *shared)
		snprintf(path, sizeof path, "%s/corpus/real-world/%s", shared, name);
	else
		snprintf(path, sizeof path, "%s/../shared/corpus/real-world/%s", top ? top : ".", name);
	if (access(path, R_OK) != 0)
		return NULL;
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse_file(path, &e);
	if (!env)
		ck_abort_msg("%s: %s", path, e.msg);
	return env;
}

static bool shared_plan(struct fixture *f, const char *name)
{
	memset(f, 0, sizeof *f);
	f->env = shared_file(name);
	if (!f->env) {
		printf("skipped: %s is not in ../shared\n", name);
		return false;
	}
	od_err e = {0};
	if (ovf_hardware_get(f->env, f->env->systems[0], NULL, &f->hw, &e) < 0 ||
	    hwplan_make(&f->hw, HW_DESCRIBED, &f->p, &e) < 0)
		ck_abort_msg("%s: %s", name, e.msg);
	return true;
}

START_TEST(test_real_photon5)
{
	struct fixture f;
	if (!shared_plan(&f, "photon5.ovf"))
		return;
	/* Photon OS 5: PVSCSI boot disk, the CD-ROM on SATA, VMXNET3 */
	ck_assert_int_eq(ctrl_of(&f, f.p.boot)->model, HW_CTRL_PVSCSI);
	ck_assert_uint_ne(f.p.env, HWPLAN_NONE);
	ck_assert_int_eq(ctrl_of(&f, f.p.env)->model, HW_CTRL_AHCI);
	ck_assert_uint_ge(f.p.nnics, 1);
	ck_assert_int_eq(f.p.nics[0].model, HW_NIC_VMXNET3);
	unplan(&f);
}
END_TEST

START_TEST(test_real_ubuntu)
{
	struct fixture f;
	if (!shared_plan(&f, "ubuntu24.10.ovf"))
		return;
	ck_assert_int_eq(ctrl_of(&f, f.p.boot)->model, HW_CTRL_PVSCSI);
	ck_assert_int_eq(ctrl_of(&f, f.p.env)->model, HW_CTRL_IDE);
	ck_assert(f.p.disks[f.p.env].hw_disk != HWPLAN_NONE); /* its own CD-ROM drive */
	ck_assert_int_eq(f.p.nics[0].model, HW_NIC_VMXNET3);
	unplan(&f);
}
END_TEST

START_TEST(test_real_ttylinux)
{
	struct fixture f;
	if (!shared_plan(&f, "ttylinux.ovf"))
		return;
	ck_assert_int_eq(ctrl_of(&f, f.p.boot)->model, HW_CTRL_IDE);
	ck_assert_int_eq(f.p.nics[0].model, HW_NIC_E1000);
	unplan(&f);
}
END_TEST

/* Every real-world descriptor and every conformance one that has hardware:
 * a plan or a clean error, never a crash, every slot within its
 * controller. */
START_TEST(test_real_all)
{
	static const char *const names[] = {"deployment-configs.ovf", "mixed-disks.ovf", "multiple_disks.ovf",
					    "photon5.ovf", "properties.ovf", "property-types.ovf", "qualifiers.ovf",
					    "ttylinux.ovf", "ubuntu24.10.ovf"};
	size_t seen = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		ovf_envelope *env = shared_file(names[i]);
		if (!env)
			continue;
		seen++;
		for (size_t c = 0; c <= env->nconfigs; c++) {
			struct ovf_hardware hw;
			struct hwplan p;
			od_err e = {0};
			const char *cfg = c < env->nconfigs ? env->configs[c].id : NULL;
			if (ovf_hardware_get(env, env->systems[0], cfg, &hw, &e) < 0)
				continue;
			ck_assert_int_eq(hwplan_make(&hw, HW_DESCRIBED, &p, &e), 0);
			for (size_t d = 0; d < p.ndisks; d++)
				if (p.disks[d].ctrl != HWPLAN_NONE)
					ck_assert_uint_lt(p.disks[d].unit, hw_ctrl_units(p.ctrls[p.disks[d].ctrl].model));
			ck_assert_uint_ne(p.env, HWPLAN_NONE);
			hwplan_free(&p);
			ovf_hardware_free(&hw);
		}
		ovf_envelope_free(env);
	}
	if (!seen)
		printf("skipped: ../shared is absent\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hwplan");
	TCase *tc = od_check_tcase(s, "plan");
	tcase_add_test(tc, test_vmware_pvscsi_ide_cd);
	tcase_add_test(tc, test_scsi_only_env_cd);
	tcase_add_test(tc, test_no_controllers);
	tcase_add_test(tc, test_virtio_mode);
	tcase_add_test(tc, test_slot_conflicts);
	tcase_add_test(tc, test_ide_full_is_an_error);
	tcase_add_test(tc, test_three_ide_controllers);
	tcase_add_test(tc, test_too_many_controllers);
	tcase_add_test(tc, test_models);
	tcase_add_test(tc, test_choices);
	tcase_add_test(tc, test_floppy_and_stray_cd);
	tc = od_check_tcase(s, "qemu");
	tcase_add_test(tc, test_qemu_devices);
	tc = od_check_tcase(s, "instance");
	tcase_add_checked_fixture(tc, home_setup, home_teardown);
	tcase_add_test(tc, test_instance_roundtrip);
	tcase_add_test(tc, test_instance_hostile);
	tc = od_check_tcase(s, "real-world");
	tcase_add_test(tc, test_real_photon5);
	tcase_add_test(tc, test_real_ubuntu);
	tcase_add_test(tc, test_real_ttylinux);
	tcase_add_test(tc, test_real_all);
	return od_check_run(s);
}
