// The team's loopback floor tool (kept here so the repository stands alone), unchanged below this line; used by bench/results/playback.md.
// Physical floor for fan-out on this machine: CPU per 1200-byte UDP datagram sent with sendmmsg
// (batches of 64) to P distinct loopback destinations (bound sockets that are never read, so the
// kernel drops at their full queues after delivery work). One process, CPU from getrusage.
// cc -O2 sendmmsg_floor.c -o sendmmsg_floor && ./sendmmsg_floor 1000 2000000
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
static double cpu(void) { struct rusage r; getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6; }
int main(int argc, char **argv) {
  int players = argc > 1 ? atoi(argv[1]) : 1000; long total = argc > 2 ? atol(argv[2]) : 2000000;
  struct sockaddr_in *dst = calloc(players, sizeof *dst);
  for (int i = 0; i < players; i++) {
    int r = socket(AF_INET, SOCK_DGRAM, 0); int sz = 4096; setsockopt(r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(r, (void *)&a, sizeof a)) { perror("bind"); return 1; }
    socklen_t l = sizeof a; getsockname(r, (void *)&a, &l); dst[i] = a;
  }
  int s = socket(AF_INET, SOCK_DGRAM, 0); int sb = 4 << 20; setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
  enum { B = 64 }; static char buf[B][1200]; struct mmsghdr m[B]; struct iovec io[B];
  long sent = 0; int next = 0; double c0 = cpu();
  while (sent < total) {
    for (int k = 0; k < B; k++) {
      io[k].iov_base = buf[k]; io[k].iov_len = 1200;
      memset(&m[k], 0, sizeof m[k]); m[k].msg_hdr.msg_iov = &io[k]; m[k].msg_hdr.msg_iovlen = 1;
      m[k].msg_hdr.msg_name = &dst[next]; m[k].msg_hdr.msg_namelen = sizeof dst[0]; next = (next + 1) % players;
    }
    int n = sendmmsg(s, m, B, 0); if (n < 0) { perror("sendmmsg"); return 1; } sent += n;
  }
  double c = cpu() - c0;
  printf("sendmmsg floor: %d destinations, %ld datagrams of 1200 B, %.3f us CPU per datagram\n", players, sent, c * 1e6 / sent);
  return 0;
}
