// Command go-rsa-keygen times crypto/rsa.GenerateKey, the call behind Sprig's
// genPrivateKey/genCA/genSignedCert in helm, for hack/bench/rsa-keygen.sh.
// It prints one line per key: "key <bits> <cpu_ns> <wall_ns>", where CPU is
// the whole process's user+system time (GC included, as helm pays it).
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "getrusage:", err)
		os.Exit(1)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func main() {
	bits := flag.Int("bits", 2048, "key size")
	n := flag.Int("n", 1, "keys to generate")
	flag.Parse()
	for i := 0; i < *n; i++ {
		c0, w0 := cpuNanos(), time.Now()
		if _, err := rsa.GenerateKey(rand.Reader, *bits); err != nil {
			fmt.Fprintln(os.Stderr, "GenerateKey:", err)
			os.Exit(1)
		}
		fmt.Printf("key %d %d %d\n", *bits, cpuNanos()-c0, time.Since(w0).Nanoseconds())
	}
}
