#ifndef BASSD_UDP_BATCH_H
#define BASSD_UDP_BATCH_H

#define BASSD_UDP_MAX_BATCH 256
#define BASSD_UDP_HOST_LEN 48

int bassd_udp_has_recvmmsg(void);
/* Up to n datagrams from fd into buf (n slots of `slot` bytes); lens: each real
 * length (may exceed slot: truncated); hosts/ports: each peer, written only where
 * same[i] is 0 (same[i] 1: the same peer as datagram i-1). Returns the count, or
 * -errno (-EAGAIN: nothing waiting). */
int bassd_udp_recv_batch(int fd, char *buf, int slot, int n, int *lens,
                         char (*hosts)[BASSD_UDP_HOST_LEN], int *ports, int *same);

#endif
