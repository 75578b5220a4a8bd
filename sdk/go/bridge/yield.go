//go:build wasip1

package bridge

import "runtime"

func yield() { runtime.Gosched() }
