#ifndef CLIBUV_SHIM_H
#define CLIBUV_SHIM_H

#include <uv.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

/* Only what Swift cannot express directly: libuv's "struct inheritance" casts and sockaddr family casts. */

/// Any libuv handle (uv_tcp_t, uv_timer_t, ...) as its uv_handle_t base; every handle struct starts with it.
static inline uv_handle_t *cuv_handle(void *handle) { return (uv_handle_t *)handle; }

/// A TCP handle as its uv_stream_t base.
static inline uv_stream_t *cuv_stream(uv_tcp_t *tcp) { return (uv_stream_t *)tcp; }

/// Fills `out` from an IPv4 literal, else an IPv6 literal. Returns 0 or a negative UV_E* code (UV_EINVAL).
static inline int cuv_ip_addr(const char *host, int port, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0) return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)out);
}

/// Resolves `host` (a name such as `localhost`, or a literal) to at most `max` TCP addresses with `port`, in the
/// resolver's order (getaddrinfo blocks: callers resolve once, when they bind or connect). Returns how many were
/// written, or UV_EAI_NONAME / UV_EAI_AGAIN / UV_EAI_FAIL.
static inline int cuv_resolve(const char *host, int port, struct sockaddr_storage *out, int max) {
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    int rc = getaddrinfo(host, NULL, &hints, &list);
    if (rc != 0) return rc == EAI_NONAME ? UV_EAI_NONAME : rc == EAI_AGAIN ? UV_EAI_AGAIN : UV_EAI_FAIL;
    int count = 0;
    for (struct addrinfo *a = list; a != NULL && count < max; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            memset(&out[count], 0, sizeof out[count]);
            memcpy(&out[count], a->ai_addr, sizeof(struct sockaddr_in));
            ((struct sockaddr_in *)&out[count])->sin_port = htons((uint16_t)port);
            count++;
        } else if (a->ai_family == AF_INET6) {
            memset(&out[count], 0, sizeof out[count]);
            memcpy(&out[count], a->ai_addr, sizeof(struct sockaddr_in6));
            ((struct sockaddr_in6 *)&out[count])->sin6_port = htons((uint16_t)port);
            count++;
        }
    }
    freeaddrinfo(list);
    return count > 0 ? count : UV_EAI_NONAME;
}

/// `storage` as the `struct sockaddr *` that uv_tcp_bind and uv_tcp_connect take.
static inline const struct sockaddr *cuv_sockaddr(const struct sockaddr_storage *storage) {
    return (const struct sockaddr *)storage;
}

/// The local (`peer == 0`) or remote address of `tcp`: its text into `name` (at least INET6_ADDRSTRLEN bytes),
/// its port into `*port`, and whether it is IPv6 into `*is_ipv6`. Returns 0 or a negative UV_E* code.
static inline int cuv_tcp_address(const uv_tcp_t *tcp, int peer, char *name, size_t size, int *port, int *is_ipv6) {
    struct sockaddr_storage storage;
    int length = (int)sizeof storage;
    int rc = peer ? uv_tcp_getpeername(tcp, (struct sockaddr *)&storage, &length)
                  : uv_tcp_getsockname(tcp, (struct sockaddr *)&storage, &length);
    if (rc != 0) return rc;
    rc = uv_ip_name((const struct sockaddr *)&storage, name, size);
    if (rc != 0) return rc;
    *is_ipv6 = storage.ss_family == AF_INET6;
    *port = *is_ipv6 ? ntohs(((const struct sockaddr_in6 *)&storage)->sin6_port)
                     : ntohs(((const struct sockaddr_in *)&storage)->sin_port);
    return 0;
}

#endif
