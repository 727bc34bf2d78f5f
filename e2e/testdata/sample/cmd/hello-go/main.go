// Command hello-go is the sample's compiled program: the e2e release test builds it with the runner's Go
// toolchain (build-mode: runner).
package main

import (
	"fmt"
	"os"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Printf("Hello, %s! (hello-go)\n", name)
}
