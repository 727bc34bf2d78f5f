//go:build !(linux && (amd64 || arm64))

package startheap

const supported = false

func madvise(addr, n uintptr, advice int32) int { return 0 }
