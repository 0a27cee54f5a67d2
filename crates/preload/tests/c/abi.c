/* C-ABI tests for liballocmux_preload.so (any backend): run with LD_PRELOAD=<library>.
 * Each exported function's edge cases (see src/lib.rs), thread churn with cross-thread
 * frees, and fork from a multi-threaded process. Exit 0 = all passed; every failed
 * check prints one line. Built and run by tests/c_abi.rs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* glibc's internal aliases, exported by the library too. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void *reallocarray(void *, size_t, size_t);
extern void *pvalloc(size_t);

static int failures;
static int checks;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

/* Huge requests: no allocator can satisfy them (above PTRDIFF_MAX). */
#define HUGE_SIZE ((size_t)PTRDIFF_MAX + 1)

static int aligned(void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void test_interposed(void) {
    Dl_info info;
    CHECK(dladdr((void *)&malloc, &info) && info.dli_fname &&
              strstr(info.dli_fname, "liballocmux") != NULL,
          "malloc resolves to %s, not the allocmux library (not preloaded?)",
          info.dli_fname ? info.dli_fname : "?");
    int (*active)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "allocmux_preload_active");
    CHECK(active && active() == 1, "marker symbol allocmux_preload_active missing");
}

static void test_malloc_free(void) {
    void *a = malloc(0), *b = malloc(0);
    CHECK(a && b && a != b, "malloc(0) must return unique pointers: %p %p", a, b);
    CHECK(malloc_usable_size(a) >= 1, "usable size of malloc(0)");
    free(a);
    free(b);
    free(NULL); /* no-op */
    for (size_t n = 1; n <= (1u << 22); n = n * 3 / 2 + 1) {
        unsigned char *p = malloc(n);
        CHECK(p != NULL, "malloc(%zu)", n);
        if (!p) continue;
        CHECK(aligned(p, n > 8 ? 16 : 8), "malloc(%zu)=%p alignment", n, (void *)p);
        CHECK(malloc_usable_size(p) >= n, "usable %zu < %zu", malloc_usable_size(p), n);
        memset(p, 0xAB, n);
        CHECK(p[0] == 0xAB && p[n - 1] == 0xAB, "contents");
        free(p);
    }
    errno = 0;
    void *h = malloc(HUGE_SIZE);
    CHECK(h == NULL && errno == ENOMEM, "malloc(huge)=%p errno=%d", h, errno);
    errno = 0;
    h = malloc(SIZE_MAX);
    CHECK(h == NULL && errno == ENOMEM, "malloc(SIZE_MAX)=%p errno=%d", h, errno);
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
}

static void test_calloc(void) {
    errno = 0;
    void *p = calloc(SIZE_MAX / 2, 3);
    CHECK(p == NULL && errno == ENOMEM, "calloc overflow: %p errno=%d", p, errno);
    errno = 0;
    p = calloc((size_t)1 << 33, (size_t)1 << 33);
    CHECK(p == NULL && errno == ENOMEM, "calloc overflow 2^66: %p errno=%d", p, errno);
    p = calloc(0, 0);
    CHECK(p != NULL, "calloc(0,0) unique pointer");
    free(p);
    /* Reused blocks must come back zeroed. */
    for (int round = 0; round < 2; round++) {
        for (size_t n = 1; n < (3u << 20); n = n * 2 + 7) {
            unsigned char *q = calloc(n, 1);
            CHECK(q != NULL, "calloc(%zu)", n);
            if (!q) continue;
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) bad += q[i] != 0;
            CHECK(bad == 0, "calloc(%zu) has %zu non-zero bytes", n, bad);
            memset(q, 0x5A, n);
            free(q);
        }
    }
}

static void test_realloc(void) {
    unsigned char *p = realloc(NULL, 10); /* = malloc */
    CHECK(p != NULL, "realloc(NULL, 10)");
    for (int i = 0; i < 10; i++) p[i] = (unsigned char)i;
    size_t sizes[] = {20, 5, 1000, 70000, 600000, 5u << 20, 100, 17};
    size_t keep = 5;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        unsigned char *q = realloc(p, n);
        CHECK(q != NULL, "realloc to %zu", n);
        if (!q) return;
        p = q;
        CHECK(aligned(p, n > 8 ? 16 : 8), "realloc alignment");
        for (size_t i = 0; i < keep && i < n; i++)
            CHECK(p[i] == (unsigned char)i, "realloc to %zu lost byte %zu", n, i);
        keep = n < keep ? n : keep;
        CHECK(malloc_usable_size(p) >= n, "realloc usable size");
    }
    errno = 0;
    void *r = realloc(p, HUGE_SIZE);
    CHECK(r == NULL && errno == ENOMEM, "realloc(huge)=%p errno=%d", r, errno);
    CHECK(p[0] == 0 && p[4] == 4, "failed realloc must keep the block");
    /* glibc behaviour: realloc(p, 0) frees p and returns NULL. */
    r = realloc(p, 0);
    CHECK(r == NULL, "realloc(p, 0) returns NULL (glibc), got %p", r);
    r = realloc(NULL, 0);
    CHECK(r != NULL, "realloc(NULL, 0) = malloc(0): unique pointer");
    free(r);

    errno = 0;
    p = malloc(16);
    r = reallocarray(p, SIZE_MAX / 2, 3);
    CHECK(r == NULL && errno == ENOMEM, "reallocarray overflow: %p errno=%d", r, errno);
    r = reallocarray(p, 100, 8);
    CHECK(r != NULL && malloc_usable_size(r) >= 800, "reallocarray 100x8");
    free(r);
    /* An aligned block reallocated by plain realloc keeps its contents. */
    void *al = aligned_alloc(4096, 64);
    memset(al, 7, 64);
    unsigned char *ra = realloc(al, 100000);
    CHECK(ra && ra[0] == 7 && ra[63] == 7, "realloc of aligned block");
    free(ra);
}

static void test_aligned(void) {
    void *p = (void *)1;
    size_t bad_aligns[] = {0, 1, 2, 4, 3, 12, 24, 48, 4097};
    for (size_t i = 0; i < sizeof bad_aligns / sizeof *bad_aligns; i++) {
        int r = posix_memalign(&p, bad_aligns[i], 16);
        CHECK(r == EINVAL, "posix_memalign(align=%zu) = %d, want EINVAL", bad_aligns[i], r);
        CHECK(p == (void *)1, "posix_memalign must not touch *memptr on error");
    }
    int r = posix_memalign(&p, 64, HUGE_SIZE);
    CHECK(r == ENOMEM && p == (void *)1, "posix_memalign(huge) = %d", r);
    for (size_t a = sizeof(void *); a <= (8u << 20); a *= 2) {
        size_t sizes[] = {0, 1, a - 1 ? a - 1 : 1, a, a + 1, 3 * a + 5, 100000};
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t n = sizes[k];
            void *q = NULL;
            r = posix_memalign(&q, a, n);
            CHECK(r == 0 && q && aligned(q, a), "posix_memalign(%zu, %zu)=%d %p", a, n, r, q);
            if (r == 0) {
                CHECK(malloc_usable_size(q) >= n, "usable of aligned");
                memset(q, 1, n);
                free(q); /* plain free of an aligned block */
            }
            q = aligned_alloc(a, n);
            CHECK(q && aligned(q, a), "aligned_alloc(%zu, %zu)=%p", a, n, q);
            free(q);
            q = memalign(a, n);
            CHECK(q && aligned(q, a), "memalign(%zu, %zu)=%p", a, n, q);
            __libc_free(q);
        }
    }
    errno = 0;
    void *q = aligned_alloc(24, 10);
    CHECK(q == NULL && errno == EINVAL, "aligned_alloc(24) = %p errno=%d", q, errno);
    q = memalign(24, 10); /* glibc rounds up to 32 */
    CHECK(q && aligned(q, 32), "memalign(24) rounds up");
    free(q);
    q = memalign(1, 10);
    CHECK(q != NULL, "memalign(1)");
    free(q);
    errno = 0;
    q = aligned_alloc(64, HUGE_SIZE);
    CHECK(q == NULL && errno == ENOMEM, "aligned_alloc(huge) errno=%d", errno);
    long page = sysconf(_SC_PAGESIZE);
    q = valloc(10);
    CHECK(q && aligned(q, (size_t)page), "valloc page aligned");
    free(q);
    q = pvalloc(10);
    CHECK(q && aligned(q, (size_t)page) && malloc_usable_size(q) >= (size_t)page,
          "pvalloc rounds to a page");
    free(q);
    q = pvalloc(0);
    CHECK(q && malloc_usable_size(q) >= (size_t)page, "pvalloc(0) is one page");
    free(q);
    errno = 0;
    q = pvalloc(SIZE_MAX - 10);
    CHECK(q == NULL && errno == ENOMEM, "pvalloc overflow");
}

static void test_libc_aliases(void) {
    void *p = __libc_malloc(100);
    CHECK(p && malloc_usable_size(p) >= 100, "__libc_malloc");
    p = __libc_realloc(p, 5000);
    CHECK(p && malloc_usable_size(p) >= 5000, "__libc_realloc");
    __libc_free(p);
    unsigned char *c = __libc_calloc(10, 10);
    CHECK(c && c[99] == 0, "__libc_calloc");
    free(c);
    errno = 0;
    CHECK(__libc_calloc(SIZE_MAX, 2) == NULL && errno == ENOMEM, "__libc_calloc overflow");
    p = __libc_memalign(256, 10);
    CHECK(p && aligned(p, 256), "__libc_memalign");
    free(p);
    p = __libc_valloc(1);
    CHECK(p && aligned(p, 4096), "__libc_valloc");
    free(p);
    p = __libc_pvalloc(1);
    CHECK(p && aligned(p, 4096), "__libc_pvalloc");
    free(p);
    /* not declared by glibc's headers nor exported by glibc: look it up */
    int (*__posix_memalign)(void **, size_t, size_t) =
        (int (*)(void **, size_t, size_t))dlsym(RTLD_DEFAULT, "__posix_memalign");
    CHECK(__posix_memalign != NULL, "__posix_memalign exported");
    if (!__posix_memalign) return;
    p = NULL;
    CHECK(__posix_memalign(&p, 3, 8) == EINVAL, "__posix_memalign EINVAL");
    CHECK(__posix_memalign(&p, 128, 8) == 0 && aligned(p, 128), "__posix_memalign");
    free(p);
    /* strdup and friends allocate inside libc: must be freeable here. */
    char *s = strdup("allocmux");
    CHECK(s && strcmp(s, "allocmux") == 0, "strdup");
    free(s);
}

/* ---- threads: churn with cross-thread frees through a shared transfer array ---- */
#define SLOTS 256
static _Atomic(void *) transfer[SLOTS];

static void *churn(void *arg) {
    uintptr_t seed = (uintptr_t)arg;
    for (int i = 0; i < 4000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (seed >> 33) % 50 == 0 ? 100000 + (seed >> 40) % 700000 : 1 + (seed >> 40) % 2000;
        unsigned char *p = malloc(n);
        if (!p) abort();
        memset(p, (int)(n & 0xff), n);
        p[0] = (unsigned char)(n & 0xff);
        /* store size in the first word if it fits */
        if (n >= sizeof(size_t)) memcpy(p, &n, sizeof n);
        void *old = atomic_exchange(&transfer[(seed >> 20) % SLOTS], p);
        if (old) {
            size_t m = malloc_usable_size(old);
            if (m < 1) abort();
            free(old); /* often a remote free */
        }
    }
    return NULL;
}

static void test_threads(void) {
    for (int round = 0; round < 20; round++) {
        pthread_t t[8];
        for (uintptr_t i = 0; i < 8; i++)
            CHECK(pthread_create(&t[i], NULL, churn, (void *)(i + 1 + round * 8)) == 0, "pthread_create");
        for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    }
    for (int i = 0; i < SLOTS; i++) free(atomic_exchange(&transfer[i], NULL));
}

/* ---- fork while 8 threads allocate ---- */
static atomic_int stop_workers;

static void *fork_worker(void *arg) {
    uintptr_t seed = (uintptr_t)arg;
    void *keep[64] = {0};
    while (!atomic_load(&stop_workers)) {
        for (int i = 0; i < 500; i++) {
            seed = seed * 6364136223846793005ull + 1;
            size_t n = (seed >> 33) % 97 == 0 ? 600 * 1024 : 1 + (seed >> 40) % 3000;
            void *p = malloc(n);
            if (!p) abort();
            memset(p, 1, n);
            int k = (int)((seed >> 50) % 64);
            free(keep[k]);
            keep[k] = p;
        }
    }
    for (int k = 0; k < 64; k++) free(keep[k]);
    return NULL;
}

static int child_work(void) {
    alarm(20); /* a deadlocked child dies of SIGALRM instead of hanging the test */
    void *ps[100];
    for (int i = 0; i < 100; i++) {
        size_t n = (size_t)(i % 10 == 0 ? 700000 : 1 + i * 37);
        ps[i] = malloc(n);
        if (!ps[i]) return 3;
        memset(ps[i], i, n);
    }
    void *a = NULL;
    if (posix_memalign(&a, 1 << 16, 1000) != 0) return 4;
    free(a);
    for (int i = 0; i < 100; i++) free(ps[i]);
    /* a thread in the child, too */
    pthread_t t;
    if (pthread_create(&t, NULL, churn, (void *)77) != 0) return 5;
    pthread_join(t, NULL);
    return 0;
}

static void test_fork(int forks) {
    pthread_t t[8];
    atomic_store(&stop_workers, 0);
    for (uintptr_t i = 0; i < 8; i++) pthread_create(&t[i], NULL, fork_worker, (void *)(i * 7919 + 3));
    int ok = 0;
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            CHECK(0, "fork failed");
            break;
        }
        if (pid == 0) _exit(child_work());
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "fork %d: child status %#x (signal %d)", i, status,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        free(malloc((size_t)(i * 13 + 1)));
    }
    atomic_store(&stop_workers, 1);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    printf("fork: %d/%d children exited 0\n", ok, forks);
}

int main(int argc, char **argv) {
    int forks = argc > 1 ? atoi(argv[1]) : 200;
    test_interposed();
    test_malloc_free();
    test_calloc();
    test_realloc();
    test_aligned();
    test_libc_aliases();
    test_threads();
    test_fork(forks);
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
