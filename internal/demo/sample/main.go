// Command hello is Slipway's demo project: a program small enough to build
// anywhere Go is installed, with no dependencies to download.
package main

import (
	"fmt"
	"os"
)

var version = "v0.1.0"

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greeting(name))
}

func greeting(name string) string {
	return fmt.Sprintf("hello, %s (hello %s)", name, version)
}
