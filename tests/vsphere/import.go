// import.go - import an unpacked OVF appliance into govmomi's vCenter
// simulator the way the vSphere Client does (CreateImportSpec, ImportVApp,
// the disks uploaded through the NFC lease) and print what was made, one
// fact a line, for tests/vsphere/import.sh:
//
//	spec-error: MESSAGE       CreateImportSpec refused something (exit 1)
//	spec-warning: MESSAGE
//	guest_id ID
//	version vmx-N
//	cpus N
//	memory_mb N
//	device TYPE               each virtual device of the imported VM
//	disk CAPACITY_BYTES       each virtual disk
//	imported NAME
//
// Usage: import OVF-FILE [DEPLOYMENT-OPTION]; the files the descriptor
// references are read beside it.  Built from Debian's golang-go and
// golang-github-vmware-govmomi-dev (GOPATH mode).
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/ovf"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "import: "+format+"\n", a...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		die("usage: import OVF-FILE [DEPLOYMENT-OPTION]")
	}
	desc, err := os.ReadFile(os.Args[1])
	if err != nil {
		die("%v", err)
	}
	dir := filepath.Dir(os.Args[1])
	ctx := context.Background()

	model := simulator.VPX()
	defer model.Remove()
	if err := model.Create(); err != nil {
		die("simulator: %v", err)
	}
	// https, as the NFC upload URLs the lease hands out say
	model.Service.TLS = new(tls.Config)
	server := model.Service.NewServer()
	defer server.Close()
	c, err := govmomi.NewClient(ctx, server.URL, true)
	if err != nil {
		die("connect: %v", err)
	}

	finder := find.NewFinder(c.Client)
	dc, err := finder.DefaultDatacenter(ctx)
	if err != nil {
		die("%v", err)
	}
	finder.SetDatacenter(dc)
	ds, err := finder.DefaultDatastore(ctx)
	if err != nil {
		die("%v", err)
	}
	// the VPX model has a cluster and standalone hosts: the first pool
	pools, err := finder.ResourcePoolList(ctx, "*")
	if err != nil || len(pools) == 0 {
		die("no resource pool: %v", err)
	}
	pool := pools[0]
	folders, err := dc.Folders(ctx)
	if err != nil {
		die("%v", err)
	}

	name := "imported"
	cisp := types.OvfCreateImportSpecParams{EntityName: name}
	if len(os.Args) == 3 {
		cisp.DeploymentOption = os.Args[2]
	}
	m := ovf.NewManager(c.Client)
	spec, err := m.CreateImportSpec(ctx, string(desc), pool, ds, cisp)
	if err != nil {
		fmt.Printf("spec-error: %v\n", err)
		os.Exit(1)
	}
	for _, w := range spec.Warning {
		fmt.Printf("spec-warning: %s\n", w.LocalizedMessage)
	}
	if len(spec.Error) > 0 {
		for _, e := range spec.Error {
			fmt.Printf("spec-error: %s\n", e.LocalizedMessage)
		}
		os.Exit(1)
	}

	lease, err := pool.ImportVApp(ctx, spec.ImportSpec, folders.VmFolder, nil)
	if err != nil {
		die("ImportVApp: %v", err)
	}
	info, err := lease.Wait(ctx, spec.FileItem)
	if err != nil {
		die("lease: %v", err)
	}
	updater := lease.StartUpdater(ctx, info)
	for _, item := range info.Items {
		f, err := os.Open(filepath.Join(dir, item.Path))
		if err != nil {
			die("%v", err)
		}
		st, _ := f.Stat()
		if err := lease.Upload(ctx, item, f, soap.Upload{ContentLength: st.Size()}); err != nil {
			die("upload %s: %v", item.Path, err)
		}
		f.Close()
	}
	updater.Done()
	if err := lease.Complete(ctx); err != nil {
		die("lease complete: %v", err)
	}

	vm := object.NewVirtualMachine(c.Client, info.Entity)
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"config"}, &mvm); err != nil {
		die("%v", err)
	}
	cfg := mvm.Config
	fmt.Printf("guest_id %s\n", cfg.GuestId)
	fmt.Printf("version %s\n", cfg.Version)
	fmt.Printf("cpus %d\n", cfg.Hardware.NumCPU)
	fmt.Printf("memory_mb %d\n", cfg.Hardware.MemoryMB)
	var lines []string
	for _, d := range cfg.Hardware.Device {
		lines = append(lines, "device "+reflect.TypeOf(d).Elem().Name())
		if disk, ok := d.(*types.VirtualDisk); ok {
			b := disk.CapacityInBytes
			if b == 0 {
				b = disk.CapacityInKB * 1024
			}
			lines = append(lines, fmt.Sprintf("disk %d", b))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Printf("imported %s\n", name)
}
