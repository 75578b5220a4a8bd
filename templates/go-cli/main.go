// go-cli: a command-line program, packed by `warp pack` into a wasi:cli
// component and run with `warp run -- ARGS`.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = strings.Join(os.Args[1:], " ")
	}
	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "Hello"
	}
	fmt.Printf("%s, %s! (from go-cli)\n", greeting, name)
}
