/* Trellis native addon: the original destination of a connection that iptables or ip6tables
 * REDIRECTed (getsockopt SOL_IP/SO_ORIGINAL_DST, SOL_IPV6/IP6T_SO_ORIGINAL_DST), which Node.js
 * does not expose. N-API only, so one build serves every Node.js version. */
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/netfilter_ipv4.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

/* originalDst(fd: number): { address: string, port: number } | { errno: number, message: string } */
static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value out;
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "originalDst(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  /* An IPv4 connection (also one mapped into a dual-stack socket) answers at SOL_IP; an IPv6
   * one answers ENOENT there (no IPv4 conntrack entry) and is asked at SOL_IPV6. */
  int rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0 && (errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == ENOENT)) {
    len = sizeof(ss);
    rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
  }
  napi_create_object(env, &out);
  if (rc != 0) {
    napi_value no, msg;
    int e = errno;
    napi_create_int32(env, e, &no);
    napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
    napi_set_named_property(env, out, "errno", no);
    napi_set_named_property(env, out, "message", msg);
    return out;
  }
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, text, INET6_ADDRSTRLEN);
    port = ntohs(a->sin6_port);
    /* A link-local destination is only reachable through its interface: `fe80::1%eth0`, as
     * Node.js (libuv) takes it to connect. */
    char ifname[IF_NAMESIZE] = {0};
    if (a->sin6_scope_id != 0 && if_indextoname(a->sin6_scope_id, ifname) != NULL) {
      size_t used = strlen(text);
      snprintf(text + used, sizeof(text) - used, "%%%s", ifname);
    }
  }
  napi_value addr, p;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &addr);
  napi_create_int32(env, port, &p);
  napi_set_named_property(env, out, "address", addr);
  napi_set_named_property(env, out, "port", p);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
