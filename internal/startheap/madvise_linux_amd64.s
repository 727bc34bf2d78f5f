#include "textflag.h"

// func madvise(addr, n uintptr, advice int32) int
TEXT ·madvise(SB),NOSPLIT,$0-32
	MOVQ	addr+0(FP), DI
	MOVQ	n+8(FP), SI
	MOVL	advice+16(FP), DX
	MOVL	$28, AX // SYS_madvise
	SYSCALL
	MOVQ	AX, ret+24(FP)
	RET
