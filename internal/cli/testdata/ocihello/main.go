// Command ocihello is the static binary of TestOCIImageSlurm's image: it
// prints its arguments and exits with the code its first argument names.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Printf("hello from the verified image: %q\n", os.Args[1:])
	if len(os.Args) > 1 {
		if code, err := strconv.Atoi(os.Args[1]); err == nil {
			os.Exit(code)
		}
	}
}
