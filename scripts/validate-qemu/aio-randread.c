/*
 * Random 4 KiB O_DIRECT reads through Linux native AIO (io_submit), keeping
 * DEPTH requests in flight for SECONDS: the guest load of `npm run
 * validate:qemu`. No libaio: the three system calls are made directly, so
 * the program links statically against glibc alone.
 *
 *   aio-randread DEVICE DEPTH SECONDS
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 4096

static long io_setup(unsigned nr, aio_context_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long io_submit(aio_context_t ctx, long n, struct iocb **cbs) { return syscall(SYS_io_submit, ctx, n, cbs); }
static long io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev) {
    return syscall(SYS_io_getevents, ctx, min, max, ev, NULL);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64: any spread of offsets will do, the device reads are what count. */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void prepare(struct iocb *cb, int fd, char *buf, long blocks) {
    memset(cb, 0, sizeof *cb);
    cb->aio_fildes = fd;
    cb->aio_lio_opcode = IOCB_CMD_PREAD;
    cb->aio_buf = (uint64_t)(uintptr_t)buf;
    cb->aio_nbytes = READ_SIZE;
    cb->aio_offset = (int64_t)(next_random() % blocks) * READ_SIZE;
    cb->aio_data = (uint64_t)(uintptr_t)cb;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DEVICE DEPTH SECONDS\n", argv[0]);
        return 2;
    }
    int depth = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0 || depth < 1) {
        perror(argv[1]);
        return 1;
    }
    long blocks = lseek(fd, 0, SEEK_END) / READ_SIZE;
    aio_context_t ctx = 0;
    char *bufs;
    struct iocb *cbs = calloc(depth, sizeof *cbs);
    struct iocb **ptrs = calloc(depth, sizeof *ptrs);
    struct io_event *events = calloc(depth, sizeof *events);
    if (blocks < 1 || io_setup(depth, &ctx) < 0 || posix_memalign((void **)&bufs, READ_SIZE, (size_t)depth * READ_SIZE) != 0) {
        perror("setup");
        return 1;
    }
    rng ^= (uint64_t)getpid() << 32;
    for (int i = 0; i < depth; i++) {
        prepare(&cbs[i], fd, bufs + (size_t)i * READ_SIZE, blocks);
        ptrs[i] = &cbs[i];
    }
    if (io_submit(ctx, depth, ptrs) != depth) {
        perror("io_submit");
        return 1;
    }
    long inflight = depth, done = 0;
    double end = now() + seconds;
    while (inflight > 0) {
        long n = io_getevents(ctx, 1, depth, events);
        if (n < 0) {
            perror("io_getevents");
            return 1;
        }
        inflight -= n;
        done += n;
        if (now() >= end) continue; /* drain: submit nothing more */
        for (long i = 0; i < n; i++) {
            struct iocb *cb = (struct iocb *)(uintptr_t)events[i].data;
            prepare(cb, fd, (char *)(uintptr_t)cb->aio_buf, blocks);
            ptrs[i] = cb;
        }
        if (io_submit(ctx, n, ptrs) != n) {
            perror("io_submit");
            return 1;
        }
        inflight += n;
    }
    printf("aio-randread %s: %ld reads at depth %d\n", argv[1], done, depth);
    return 0;
}
