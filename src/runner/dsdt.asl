/*
 * dsdt.asl - the runner's DSDT, compiled with iasl at build time.
 *
 * What an OS needs beyond the static tables: the S5 sleep type for
 * power-off (SLP_TYP 0, which hw/acpi_pm.c treats as "off"), the PCI root
 * with its interrupt routing, and the legacy devices on the ISA bridge
 * (SeaBIOS also reads this table: without PNP0303 and PNP0501 here it
 * would not set up the keyboard and the serial port).
 *
 * _PRT is static: slot S pin P (0 = INTA) uses PIRQ (S + P) mod 4, and the
 * PIRQs are routed to ISA IRQs 10, 10, 11, 11, which is what SeaBIOS
 * programs into the PIIX3 route registers (hw/pci.c delivers INTx through
 * them).  Those IRQs are level-triggered (SeaBIOS sets the ELCR).  The
 * table lists slots 2-31 (0 and 1 are the chipset).
 */
DefinitionBlock ("", "DSDT", 1, "OVFDPL", "OVFDSDT", 1)
{
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)
            /* What the root bridge decodes: all bus numbers, I/O but for
             * the configuration ports, the VGA hole, and the 32-bit PCI
             * window.  RAM below 4 GiB ends at 3.5 GiB at most (kvm.c),
             * SeaBIOS places BARs down from 0xFEC00000, and an OS booted
             * directly (no firmware) places them in here itself. */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000)
            })
            Name (_PRT, Package ()
            {
                Package (0x04) { 0x0002FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0002FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0002FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0002FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0003FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0003FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0003FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0003FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0004FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0004FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0004FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0004FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0005FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0005FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0005FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0005FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0006FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0006FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0006FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0006FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0007FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0007FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0007FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0007FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0008FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0008FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0008FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0008FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0009FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0009FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0009FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0009FFFF, 3, Zero, 10 },
                Package (0x04) { 0x000AFFFF, 0, Zero, 11 },
                Package (0x04) { 0x000AFFFF, 1, Zero, 11 },
                Package (0x04) { 0x000AFFFF, 2, Zero, 10 },
                Package (0x04) { 0x000AFFFF, 3, Zero, 10 },
                Package (0x04) { 0x000BFFFF, 0, Zero, 11 },
                Package (0x04) { 0x000BFFFF, 1, Zero, 10 },
                Package (0x04) { 0x000BFFFF, 2, Zero, 10 },
                Package (0x04) { 0x000BFFFF, 3, Zero, 11 },
                Package (0x04) { 0x000CFFFF, 0, Zero, 10 },
                Package (0x04) { 0x000CFFFF, 1, Zero, 10 },
                Package (0x04) { 0x000CFFFF, 2, Zero, 11 },
                Package (0x04) { 0x000CFFFF, 3, Zero, 11 },
                Package (0x04) { 0x000DFFFF, 0, Zero, 10 },
                Package (0x04) { 0x000DFFFF, 1, Zero, 11 },
                Package (0x04) { 0x000DFFFF, 2, Zero, 11 },
                Package (0x04) { 0x000DFFFF, 3, Zero, 10 },
                Package (0x04) { 0x000EFFFF, 0, Zero, 11 },
                Package (0x04) { 0x000EFFFF, 1, Zero, 11 },
                Package (0x04) { 0x000EFFFF, 2, Zero, 10 },
                Package (0x04) { 0x000EFFFF, 3, Zero, 10 },
                Package (0x04) { 0x000FFFFF, 0, Zero, 11 },
                Package (0x04) { 0x000FFFFF, 1, Zero, 10 },
                Package (0x04) { 0x000FFFFF, 2, Zero, 10 },
                Package (0x04) { 0x000FFFFF, 3, Zero, 11 },
                Package (0x04) { 0x0010FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0010FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0010FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0010FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0011FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0011FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0011FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0011FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0012FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0012FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0012FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0012FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0013FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0013FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0013FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0013FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0014FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0014FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0014FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0014FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0015FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0015FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0015FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0015FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0016FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0016FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0016FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0016FFFF, 3, Zero, 10 },
                Package (0x04) { 0x0017FFFF, 0, Zero, 11 },
                Package (0x04) { 0x0017FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0017FFFF, 2, Zero, 10 },
                Package (0x04) { 0x0017FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0018FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0018FFFF, 1, Zero, 10 },
                Package (0x04) { 0x0018FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0018FFFF, 3, Zero, 11 },
                Package (0x04) { 0x0019FFFF, 0, Zero, 10 },
                Package (0x04) { 0x0019FFFF, 1, Zero, 11 },
                Package (0x04) { 0x0019FFFF, 2, Zero, 11 },
                Package (0x04) { 0x0019FFFF, 3, Zero, 10 },
                Package (0x04) { 0x001AFFFF, 0, Zero, 11 },
                Package (0x04) { 0x001AFFFF, 1, Zero, 11 },
                Package (0x04) { 0x001AFFFF, 2, Zero, 10 },
                Package (0x04) { 0x001AFFFF, 3, Zero, 10 },
                Package (0x04) { 0x001BFFFF, 0, Zero, 11 },
                Package (0x04) { 0x001BFFFF, 1, Zero, 10 },
                Package (0x04) { 0x001BFFFF, 2, Zero, 10 },
                Package (0x04) { 0x001BFFFF, 3, Zero, 11 },
                Package (0x04) { 0x001CFFFF, 0, Zero, 10 },
                Package (0x04) { 0x001CFFFF, 1, Zero, 10 },
                Package (0x04) { 0x001CFFFF, 2, Zero, 11 },
                Package (0x04) { 0x001CFFFF, 3, Zero, 11 },
                Package (0x04) { 0x001DFFFF, 0, Zero, 10 },
                Package (0x04) { 0x001DFFFF, 1, Zero, 11 },
                Package (0x04) { 0x001DFFFF, 2, Zero, 11 },
                Package (0x04) { 0x001DFFFF, 3, Zero, 10 },
                Package (0x04) { 0x001EFFFF, 0, Zero, 11 },
                Package (0x04) { 0x001EFFFF, 1, Zero, 11 },
                Package (0x04) { 0x001EFFFF, 2, Zero, 10 },
                Package (0x04) { 0x001EFFFF, 3, Zero, 10 },
                Package (0x04) { 0x001FFFFF, 0, Zero, 11 },
                Package (0x04) { 0x001FFFFF, 1, Zero, 10 },
                Package (0x04) { 0x001FFFFF, 2, Zero, 10 },
                Package (0x04) { 0x001FFFFF, 3, Zero, 11 }
            })

            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x08, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x10, 0x02)
                        IRQNoFlags () {8}
                    })
                }
            }
        }
    }
}
