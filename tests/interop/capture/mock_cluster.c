/*
 * mock_cluster: runs librdkafka's in-process mock Kafka cluster for golden
 * vector captures (tests/interop/capture/capture_all.sh).
 *
 * Usage:
 *   mock_cluster [--brokers N] [--seconds S] [--advertise-ports P1,P2,...]
 *                [--broker-file PATH] [--topic NAME:PARTITIONS]...
 *
 * Prints the bootstrap servers on stdout, then runs until killed or until S
 * seconds have passed (default 300).
 *
 * --advertise-ports makes mock broker i advertise 127.0.0.1:P_i (in Metadata
 * and FindCoordinator responses) while it really listens on an ephemeral port
 * M_i.  A recording proxy listens on P_i and forwards to M_i, so every
 * connection a client makes, bootstrap or not, goes through the proxy and no
 * byte on the wire has to be rewritten.  librdkafka 2.0.2 offers no setting
 * for the mock's listen port, so this program interposes bind() and
 * getsockname() (ELF symbol interposition, linked with -rdynamic): a
 * listening socket bound to 127.0.0.1:0 keeps its ephemeral port, but
 * getsockname() on it reports the advertised port.  The mock binds its
 * listeners in broker id order (1..N), which the driver checks with a
 * Metadata request.  --broker-file receives one line per broker:
 * "<id> <real port> <advertised port>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_BROKERS 16

static int advertise_ports[MAX_BROKERS];
static int advertise_count;
/* Listening sockets seen by bind(), in bind order; -1 = free slot. */
static int listener_fds[MAX_BROKERS];
static int listener_count;
static int real_ports[MAX_BROKERS];

typedef int (*bind_fn)(int, const struct sockaddr*, socklen_t);
typedef int (*getsockname_fn)(int, struct sockaddr*, socklen_t*);

static int is_loopback_any_port(const struct sockaddr* addr, socklen_t len) {
  if (addr == NULL || len < (socklen_t)sizeof(struct sockaddr_in) || addr->sa_family != AF_INET)
    return 0;
  const struct sockaddr_in* in = (const struct sockaddr_in*)addr;
  return in->sin_port == 0 && in->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* Interposed: remembers the mock's listening sockets (bound to 127.0.0.1:0). */
int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  static bind_fn real_bind;
  if (real_bind == NULL) real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
  int rc = real_bind(fd, addr, len);
  if (rc == 0 && advertise_count > 0 && is_loopback_any_port(addr, len) &&
      listener_count < advertise_count)
    listener_fds[listener_count++] = fd;
  return rc;
}

/* Interposed: reports the advertised port for the mock's listening sockets. */
int getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  static getsockname_fn real_getsockname;
  if (real_getsockname == NULL) real_getsockname = (getsockname_fn)dlsym(RTLD_NEXT, "getsockname");
  int rc = real_getsockname(fd, addr, len);
  if (rc != 0 || addr == NULL || addr->sa_family != AF_INET) return rc;
  for (int i = 0; i < listener_count; i++) {
    if (listener_fds[i] == fd) {
      struct sockaddr_in* in = (struct sockaddr_in*)addr;
      real_ports[i] = ntohs(in->sin_port);
      in->sin_port = htons((uint16_t)advertise_ports[i]);
      break;
    }
  }
  return rc;
}

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [--brokers N] [--seconds S] [--advertise-ports P1,P2,...]\n"
          "          [--broker-file PATH] [--topic NAME:PARTITIONS]...\n",
          argv0);
  exit(2);
}

int main(int argc, char** argv) {
  int broker_count = 3;
  int seconds = 300;
  const char* broker_file = NULL;
  const char* topics[64];
  int topic_count = 0;

  for (int i = 1; i < argc; i++) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "--brokers") == 0 && value) {
      broker_count = atoi(value);
      i++;
    } else if (strcmp(arg, "--seconds") == 0 && value) {
      seconds = atoi(value);
      i++;
    } else if (strcmp(arg, "--broker-file") == 0 && value) {
      broker_file = value;
      i++;
    } else if (strcmp(arg, "--topic") == 0 && value && topic_count < 64) {
      topics[topic_count++] = value;
      i++;
    } else if (strcmp(arg, "--advertise-ports") == 0 && value) {
      char* copy = strdup(value);
      for (char* tok = strtok(copy, ","); tok && advertise_count < MAX_BROKERS;
           tok = strtok(NULL, ","))
        advertise_ports[advertise_count++] = atoi(tok);
      free(copy);
      i++;
    } else {
      usage(argv[0]);
    }
  }
  if (broker_count < 1 || broker_count > MAX_BROKERS) usage(argv[0]);
  if (advertise_count != 0 && advertise_count != broker_count) {
    fprintf(stderr, "mock_cluster: need one advertised port per broker\n");
    return 2;
  }

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  /* The handle only does book keeping for the mock; it talks to no broker. */
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == NULL) {
    fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
    return 1;
  }

  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, broker_count);
  if (cluster == NULL) {
    fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  if (advertise_count != 0 && listener_count != broker_count) {
    fprintf(stderr,
            "mock_cluster: saw %d listening sockets, expected %d "
            "(bind/getsockname interposition did not take effect)\n",
            listener_count, broker_count);
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 1;
  }

  for (int i = 0; i < topic_count; i++) {
    char name[256];
    snprintf(name, sizeof(name), "%s", topics[i]);
    int partitions = 1;
    char* colon = strrchr(name, ':');
    if (colon) {
      *colon = '\0';
      partitions = atoi(colon + 1);
    }
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, name, partitions, 1);
    if (err) {
      fprintf(stderr, "mock_cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
      return 1;
    }
  }

  if (broker_file) {
    FILE* f = fopen(broker_file, "w");
    if (f == NULL) {
      perror("mock_cluster: broker file");
      return 1;
    }
    for (int i = 0; i < advertise_count; i++)
      fprintf(f, "%d %d %d\n", i + 1, real_ports[i], advertise_ports[i]);
    fclose(f);
  }

  printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  fflush(stdout);

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  time_t deadline = time(NULL) + seconds;
  while (!stop_requested && time(NULL) < deadline) {
    struct timespec tick = {0, 100 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
