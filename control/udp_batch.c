/* Batch UDP receive for the OSC server: one recvmmsg(2) call drains up to n
 * datagrams with their peers, so the event loop pays one system call and one
 * Python-to-C crossing per batch instead of one of each per datagram.
 *
 * Non-blocking (MSG_DONTWAIT): an empty socket returns -EAGAIN at once.
 * MSG_TRUNC: lens[i] is the datagram's real length even when it was longer
 * than the slot (only the first `slot` bytes are stored), so the caller can
 * reject oversized datagrams by their true size, as before.
 */
#define _GNU_SOURCE
#include "udp_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

int bassd_udp_has_recvmmsg(void) {
#ifdef __linux__
    return 1;
#else
    return 0;
#endif
}

static void peer_text(const struct sockaddr_storage *ss, char *host, int *port) {
    host[0] = '\0';
    *port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, BASSD_UDP_HOST_LEN);
        *port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, BASSD_UDP_HOST_LEN);
        *port = ntohs(a->sin6_port);
    }
}

int bassd_udp_recv_batch(int fd, char *buf, int slot, int n, int *lens,
                         char (*hosts)[BASSD_UDP_HOST_LEN], int *ports, int *same) {
#ifndef __linux__
    (void)fd; (void)buf; (void)slot; (void)n; (void)lens; (void)hosts; (void)ports; (void)same;
    return -ENOSYS; /* no recvmmsg: the caller falls back to recvfrom */
#else
    if (n <= 0) return 0;
    if (n > BASSD_UDP_MAX_BATCH) n = BASSD_UDP_MAX_BATCH;
    struct mmsghdr msgs[BASSD_UDP_MAX_BATCH];
    struct iovec iov[BASSD_UDP_MAX_BATCH];
    struct sockaddr_storage addrs[BASSD_UDP_MAX_BATCH];
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)n);
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = buf + (size_t)i * (size_t)slot;
        iov[i].iov_len = (size_t)slot;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
    }
    int got;
    do {
        got = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT | MSG_TRUNC, NULL);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return -errno;
    for (int i = 0; i < got; i++) {
        lens[i] = (int)msgs[i].msg_len;
        /* the same peer as the datagram before: the caller reuses its (host, port) */
        same[i] = i > 0 && msgs[i].msg_hdr.msg_namelen == msgs[i - 1].msg_hdr.msg_namelen &&
                  memcmp(&addrs[i], &addrs[i - 1], msgs[i].msg_hdr.msg_namelen) == 0;
        if (!same[i]) peer_text(&addrs[i], hosts[i], &ports[i]);
    }
    return got;
#endif
}
