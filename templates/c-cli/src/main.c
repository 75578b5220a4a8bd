// c-cli: a wasi:cli program built by `warp pack` with clang and warp's
// wasi-libc. `warp run target/warp/c-cli.warp.json -- NAME` runs it.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *greeting = getenv("GREETING");
    const char *name = argc > 1 ? argv[1] : "world";
    printf("%s, %s!\n", greeting ? greeting : "hello", name);
    return 0;
}
