/* netframe.h - Ethernet frames a fake guest sends in the NIC unit tests
 * (test_net.c for virtio-net, test_vmxnet3.c): UDP over IPv4, a DHCP
 * DISCOVER, and the reading of a DHCP option from slirp's answer. */
#ifndef OD_TESTS_RUNNER_NETFRAME_H
#define OD_TESTS_RUNNER_NETFRAME_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The Internet checksum of n bytes (big-endian words). */
static inline uint16_t nf_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet frame from `src_mac` to `mac` carrying a UDP datagram from
 * `src` to `dst` (dotted quads), UDP checksum 0 (none); returns the frame
 * length. */
static inline size_t nf_udp_frame(uint8_t *f, const uint8_t mac[6], const uint8_t src_mac[6], const char *src,
				  const char *dst, uint16_t sport, uint16_t dport, const uint8_t *payload, size_t plen)
{
	size_t udp = 8 + plen, ip = 20 + udp;
	memset(f, 0, 14 + ip);
	memcpy(f, mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	uint8_t *h = f + 14;
	h[0] = 0x45;
	h[2] = (uint8_t)(ip >> 8); h[3] = (uint8_t)ip;
	h[8] = 64; h[9] = 17;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	uint16_t c = nf_csum(h, 20);
	h[10] = c >> 8; h[11] = (uint8_t)c;
	uint8_t *u = h + 20;
	u[0] = sport >> 8; u[1] = (uint8_t)sport;
	u[2] = dport >> 8; u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(udp >> 8); u[5] = (uint8_t)udp;
	memcpy(u + 8, payload, plen);
	return 14 + ip;
}

/* An Ethernet frame with a DHCP DISCOVER (xid 0x12345678), BOOTP padded to
 * its full size, broadcast from 0.0.0.0:68 to port 67. */
static inline size_t nf_dhcp_discover(uint8_t *f, const uint8_t mac[6])
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t b[236 + 312] = { 0 };
	b[0] = 1; b[1] = 1; b[2] = 6;
	b[4] = 0x12; b[5] = 0x34; b[6] = 0x56; b[7] = 0x78;
	b[10] = 0x80;
	memcpy(b + 28, mac, 6);
	uint8_t *o = b + 236;
	o[0] = 99; o[1] = 130; o[2] = 83; o[3] = 99;
	o[4] = 53; o[5] = 1; o[6] = 1; /* DHCPDISCOVER */
	o[7] = 255;
	return nf_udp_frame(f, broadcast, mac, "0.0.0.0", "255.255.255.255", 68, 67, b, sizeof b);
}

/* A DHCP option from the BOOTP options at `o` (after the magic cookie)
 * of `n` bytes; NULL if absent. */
static inline const uint8_t *nf_dhcp_option(const uint8_t *o, size_t n, uint8_t code, uint8_t *len)
{
	size_t i = 0;
	while (i < n && o[i] != 255) {
		if (o[i] == 0) {
			i++;
			continue;
		}
		if (i + 2 > n || i + 2 + o[i + 1] > n)
			return NULL;
		if (o[i] == code) {
			*len = o[i + 1];
			return o + i + 2;
		}
		i += 2 + o[i + 1];
	}
	return NULL;
}

#endif
