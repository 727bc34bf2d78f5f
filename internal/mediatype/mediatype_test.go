package mediatype

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"
)

// elfHeader builds a 64-bit little-endian ELF header of type typ with the
// program header types phdrs right after it.
func elfHeader(typ uint16, phdrs ...uint32) []byte {
	h := make([]byte, 64+56*len(phdrs))
	copy(h, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(h[16:], typ)
	binary.LittleEndian.PutUint64(h[32:], 64) // e_phoff
	binary.LittleEndian.PutUint16(h[54:], 56) // e_phentsize
	binary.LittleEndian.PutUint16(h[56:], uint16(len(phdrs)))
	for i, p := range phdrs {
		binary.LittleEndian.PutUint32(h[64+56*i:], p)
	}
	return h
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tar := make([]byte, 512)
	copy(tar[257:], "ustar\x0000")
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"dist/app.tar.gz", []byte("\x1f\x8b"), Gzip},
		{"dist/APP.TGZ", nil, Gzip},
		{"a.cdx.json", []byte("{"), "application/vnd.cyclonedx+json"},
		{"a.spdx.json", []byte("{"), "application/spdx+json"},
		{"x.json", []byte("{"), JSON},
		{"x.zip", nil, Zip},
		{"x.sif", nil, "application/vnd.sylabs.sif.layer.v1.sif"},
		{"notes.txt", []byte{0xff, 0x00}, "text/plain; charset=utf-8"},
		{"bin/app", elfHeader(2), Executable},
		{"bin/pie", elfHeader(3, 6, 3, 1), PIEExecutable},
		{"lib/libx.so.1", elfHeader(3, 1, 1), SharedLib},
		{"obj.o", elfHeader(1), Object},
		{"core", elfHeader(4), CoreDump},
		{"truncated-elf", []byte("\x7fELF\x02\x01"), "application/octet-stream"},
		{"bundle", []byte("\x1f\x8b\x08"), Gzip},
		{"archive", tar, Tar},
		{"pkg", []byte("PK\x03\x04rest"), Zip},
		{"run", []byte("#!/bin/sh\necho hi\n"), "text/x-shellscript"},
		{"README", []byte("hello world\n"), "text/plain; charset=utf-8"},
		{"blob", []byte{0x00, 0x01, 0x02, 0xfe}, OctetStream},
		{"empty", nil, OctetStream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Detect(tc.name, tc.head); got != tc.want {
				t.Errorf("Detect(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

// TestDetectRealBinary checks the ELF reading against a real executable:
// the test binary itself.
func TestDetectRealBinary(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the test binary is an ELF file on Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, HeadSize)
	n, _ := f.Read(head)
	got := Detect("slipway.test", head[:n])
	if got != Executable && got != PIEExecutable {
		t.Errorf("Detect(test binary) = %q, want an ELF executable type", got)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("app", elfHeader(3, 3))
	f.Add("x.bin", []byte("\x7fELF\x01\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff"))
	f.Add("y", []byte("\x7fELF\x02\x01\x01"+string(make([]byte, 60))))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		if len(head) > HeadSize {
			head = head[:HeadSize]
		}
		if Detect(name, head) == "" {
			t.Fatal("Detect returned no media type")
		}
	})
}
