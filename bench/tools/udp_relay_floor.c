// The floor of a UDP relay on this machine: the datagram pattern of a TURN server relaying over
// channels, with no protocol at all. Each client gets its own relay socket (like an allocation);
// a client's datagram is sent from that socket to the peer (one sendmmsg per datagram, since each
// goes out of a different socket), the peer's echo is read from it (recvmmsg per ready socket)
// and sent back to the client from the listener (one sendmmsg per wake for all of them): the
// calls ours makes, minus parsing, authentication, permissions and channels.
//   cc -O2 udp_relay_floor.c -o udp_relay_floor
//   ./udp_relay_floor relay LISTEN_PORT PEER_PORT            (runs until SIGTERM, prints its CPU)
//   ./udp_relay_floor client RELAY_PORT CLIENTS MESSAGES BYTES TICK_US
// The client sends one datagram from each of its sockets every TICK_US and counts the echoes.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { B = 64, SLOT = 2048, MAXC = 4096 };
static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }
static double cpu(void) { struct rusage r; getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6; }
static struct sockaddr_in lo(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a; }
static int udp(int port) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0); struct sockaddr_in a = lo(port);
  int sz = 4 << 20; setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz); setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  if (bind(s, (void *)&a, sizeof a)) { perror("bind"); exit(1); }
  return s; }

struct batch { struct mmsghdr m[B]; struct iovec io[B]; struct sockaddr_in addr[B]; char buf[B][SLOT]; int n; };
static void batch_reset(struct batch *b) {
  for (int i = 0; i < B; i++) {
    b->io[i].iov_base = b->buf[i]; b->io[i].iov_len = SLOT;
    memset(&b->m[i], 0, sizeof b->m[i]); b->m[i].msg_hdr.msg_iov = &b->io[i]; b->m[i].msg_hdr.msg_iovlen = 1;
    b->m[i].msg_hdr.msg_name = &b->addr[i]; b->m[i].msg_hdr.msg_namelen = sizeof b->addr[i];
  }
  b->n = 0; }
static void flush(int fd, struct batch *b) {
  for (int off = 0; off < b->n;) { int k = sendmmsg(fd, b->m + off, b->n - off, 0); if (k <= 0) break; off += k; }
  b->n = 0; }

static int relay(int listen_port, int peer_port) {
  signal(SIGTERM, on_term); signal(SIGINT, on_term);
  int ep = epoll_create1(0), lfd = udp(listen_port);
  struct sockaddr_in peer = lo(peer_port);
  static struct sockaddr_in client_of[MAXC]; static int relay_of_port[65536]; int nrelays = 0;
  static int fd_client[1 << 16];  // relay fd -> client index
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}; epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static struct batch rx, tx, out; batch_reset(&rx); batch_reset(&tx); batch_reset(&out);
  long relayed = 0; double c0 = cpu();
  struct epoll_event evs[B];
  while (!stop) {
    int n = epoll_wait(ep, evs, B, 100);
    for (int e = 0; e < n; e++) {
      int fd = evs[e].data.fd;
      batch_reset(&rx);
      int k = recvmmsg(fd, rx.m, B, MSG_DONTWAIT, NULL);
      for (int i = 0; i < k; i++) {
        int len = rx.m[i].msg_len;
        if (fd == lfd) {  // client -> peer, from the client's own relay socket
          int port = ntohs(rx.addr[i].sin_port), r = relay_of_port[port];
          if (!r) {
            if (nrelays >= MAXC) continue;
            r = udp(0); relay_of_port[port] = r; fd_client[r] = nrelays; client_of[nrelays++] = rx.addr[i];
            struct epoll_event re = {.events = EPOLLIN, .data.fd = r}; epoll_ctl(ep, EPOLL_CTL_ADD, r, &re);
          }
          memcpy(out.buf[0], rx.buf[i], len); out.io[0].iov_len = len; out.addr[0] = peer; out.n = 1;
          flush(r, &out); relayed++;
        } else {  // peer -> client, batched on the listener
          if (tx.n == B) { flush(lfd, &tx); batch_reset(&tx); }
          memcpy(tx.buf[tx.n], rx.buf[i], len); tx.io[tx.n].iov_len = len; tx.addr[tx.n] = client_of[fd_client[fd]];
          tx.n++; relayed++;
        }
      }
    }
    if (tx.n) { flush(lfd, &tx); batch_reset(&tx); }
  }
  double c = cpu() - c0;
  printf("relay floor: %ld relayed datagrams, %.3f CPU-s, %.3f us CPU per relayed datagram, %d relay sockets\n",
         relayed, c, relayed ? c * 1e6 / relayed : 0, nrelays);
  return 0; }

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int client(int relay_port, int clients, long messages, int bytes, int tick_us) {
  struct sockaddr_in dst = lo(relay_port); int *fd = calloc(clients, sizeof *fd);
  struct pollfd *p = calloc(clients, sizeof *p); char buf[SLOT]; memset(buf, 7, sizeof buf);
  for (int i = 0; i < clients; i++) { fd[i] = udp(0); p[i].fd = fd[i]; p[i].events = POLLIN; }
  long sent = 0, recv = 0; double next = now_us(), end_by = 0;
  while (1) {
    double t = now_us();
    if (sent < messages * clients && t >= next) {
      for (int i = 0; i < clients; i++) sendto(fd[i], buf, bytes, 0, (void *)&dst, sizeof dst);
      sent += clients; next += tick_us;
      if (sent >= messages * clients) end_by = t + 2e6;  // 2 s for the last echoes
    }
    if (end_by && (recv >= sent || t > end_by)) break;
    double wait = sent < messages * clients ? (next - now_us()) / 1000 : 50;
    if (poll(p, clients, wait > 0 ? (int)wait + 0 : 0) > 0)
      for (int i = 0; i < clients; i++)
        if (p[i].revents & POLLIN) while (recvfrom(fd[i], buf, sizeof buf, MSG_DONTWAIT, NULL, NULL) > 0) recv++;
  }
  printf("client: sent %ld, received %ld, lost %ld\n", sent, recv, sent - recv);
  return 0; }

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "relay")) return relay(atoi(argv[2]), atoi(argv[3]));
  if (argc == 7 && !strcmp(argv[1], "client"))
    return client(atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atoi(argv[5]), atoi(argv[6]));
  fprintf(stderr, "usage: %s relay LISTEN_PORT PEER_PORT | client RELAY_PORT CLIENTS MESSAGES BYTES TICK_US\n", argv[0]);
  return 2; }
