/* host.c - what this host offers the runner.
 *
 * /dev/kvm existing is not enough: on hosts where KVM is backed by PVM
 * (/sys/module/kvm_pvm) guest kernel code is emulated an instruction at a
 * time, so a real guest cannot boot in useful time.  Hardware virtualization
 * shows as the vmx (Intel) or svm (AMD) CPU flag. */
#include "config.h"
#include "runner/vm.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool vm_host_has_hw_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		/* match whole words only */
		for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
			if (strcmp(t, "vmx") == 0 || strcmp(t, "svm") == 0)
				found = true;
	}
	fclose(f);
	return found;
}

bool vm_host_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool vm_host_kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

bool vm_host_kvm_vmware_backdoor(void)
{
	FILE *f = fopen("/sys/module/kvm/parameters/enable_vmware_backdoor", "r");
	if (!f)
		return false;
	int c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}
