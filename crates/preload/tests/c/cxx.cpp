/* C++ operator new/delete through the preloaded library: the operators resolve into it,
   every form allocates and frees, a request that cannot be met throws std::bad_alloc
   (the library hands it to libstdc++'s operator new, with no frame of its own left on
   the stack: a new-handler looks) and the nothrow forms return null. */
#include <dlfcn.h>
#include <execinfo.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <new>

static int checks, failures;
#define CHECK(cond, what)                                   \
    do {                                                    \
        checks++;                                           \
        if (!(cond)) {                                      \
            failures++;                                     \
            std::printf("FAILED: %s\n", what);              \
        }                                                   \
    } while (0)

/* The file the symbol `name` resolves into, or "". */
static const char *home_of(const char *name) {
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "";
    return info.dli_fname;
}

/* What the new-handler saw: whether it ran, and whether a frame of the library was on
   the stack (the exception it throws would have to unwind through that frame). */
static bool handler_ran, library_frame_seen;
static const char *library;

/* A new-handler that looks at the stack, then throws as the standard allows. */
static void handler_checking_frames() {
    handler_ran = true;
    void *frames[64];
    int n = backtrace(frames, 64);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) && info.dli_fname && std::strcmp(info.dli_fname, library) == 0)
            library_frame_seen = true;
    }
    throw std::bad_alloc();
}

/* Runs `allocate` with the frame-checking new-handler installed; true if it threw
   std::bad_alloc after the handler ran with no frame of the library on the stack. */
template <typename F> static bool throws_from_the_next_definition(F allocate) {
    handler_ran = library_frame_seen = false;
    std::set_new_handler(handler_checking_frames);
    bool threw = false;
    try {
        allocate();
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    std::set_new_handler(nullptr);
    return threw && handler_ran && !library_frame_seen;
}

int main() {
    library = home_of("_Znwm");
    const char *forms[] = {"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
                           "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm"};
    for (const char *f : forms) CHECK(std::strstr(home_of(f), "allocmux") != nullptr, f);

    const std::size_t sizes[] = {1, 8, 24, 100, 1000, 5000, 100000, 3000000};
    for (std::size_t n : sizes) {
        char *a = new char[n];
        std::memset(a, 0x5a, n);
        CHECK(malloc_usable_size(a) >= n, "new[] size");
        CHECK(n <= 8 || reinterpret_cast<std::uintptr_t>(a) % 16 == 0, "new[] alignment");
        delete[] a;
        auto *v = new std::uint64_t(n);
        CHECK(*v == n, "new");
        ::operator delete(v, sizeof *v); /* sized delete */
        char *b = new (std::nothrow) char[n];
        CHECK(b != nullptr, "nothrow new[]");
        ::operator delete[](b, std::nothrow);
    }

    bool threw = false;
    try {
        volatile std::size_t huge = SIZE_MAX / 4;
        char *p = new char[huge];
        delete[] p;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "new[] of SIZE_MAX/4 throws std::bad_alloc");
    CHECK(throws_from_the_next_definition([] {
              volatile std::size_t huge = SIZE_MAX / 4;
              ::operator delete(::operator new(huge));
          }),
          "new of SIZE_MAX/4: the new-handler runs with no frame of the library on the stack");
    CHECK(throws_from_the_next_definition([] {
              volatile std::size_t huge = SIZE_MAX / 4;
              ::operator delete[](::operator new[](huge));
          }),
          "new[] of SIZE_MAX/4: the new-handler runs with no frame of the library on the stack");
    volatile std::size_t huge = SIZE_MAX / 4;
    CHECK(::operator new(huge, std::nothrow) == nullptr, "nothrow new of SIZE_MAX/4 is null");

    std::printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
