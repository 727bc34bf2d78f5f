package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/packageurl-go"
)

// compile builds src (C, C++ or Fortran, by its extension) with the host's
// compiler into dir/name and returns the binary's path.
func compile(t *testing.T, compiler, dir, name, src string, flags ...string) string {
	t.Helper()
	cc, err := exec.LookPath(compiler)
	if err != nil {
		t.Skipf("%s is not installed (scripts/setup installs it)", compiler)
	}
	ext := map[string]string{"gcc": ".c", "g++": ".cc", "gfortran": ".f90"}[compiler]
	srcPath := filepath.Join(t.TempDir(), name+ext)
	mustWrite(t, srcPath, src)
	out := filepath.Join(dir, name)
	args := append([]string{"-O1", "-o", out, srcPath}, flags...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", compiler, strings.Join(args, " "), err, b)
	}
	return out
}

// debPackage is what dpkg-query says of an installed package.
type debPackage struct{ name, version, arch string }

func dpkgQuery(t *testing.T, name string) debPackage {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}", name).Output()
	if err != nil {
		t.Skipf("dpkg-query -W %s: %v (not a Debian host, or the package is not installed)", name, err)
	}
	f := strings.Fields(string(out))
	return debPackage{f[0], f[1], f[2]}
}

// distroQualifier is purl's distro qualifier for this host, as syft writes
// it: ID-VERSION_ID of /etc/os-release.
func distroQualifier(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skip("no /etc/os-release")
	}
	get := func(k string) string {
		m := regexp.MustCompile(`(?m)^` + k + `="?([^"\n]*)"?$`).FindSubmatch(b)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	return get("ID") + "-" + get("VERSION_ID")
}

func components(bom *cyclonedx.BOM) map[string]cyclonedx.Component {
	out := map[string]cyclonedx.Component{}
	if bom.Components != nil {
		for _, c := range *bom.Components {
			out[c.Name] = c
		}
	}
	return out
}

func property(c cyclonedx.Component, name string) []string {
	var out []string
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if p.Name == name || strings.HasPrefix(p.Name, name) && strings.HasSuffix(p.Name, ":path") {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

// checkDeb checks that the document lists the Debian package that owns the
// library at libPath (dpkg-query -S), with the version dpkg-query reports
// and the purl syft writes for it.
func checkDeb(t *testing.T, bom *cyclonedx.BOM, name string) {
	t.Helper()
	want := dpkgQuery(t, name)
	c, ok := components(bom)[want.name]
	if !ok {
		t.Errorf("no component %q (%s %s) in %v", want.name, want.version, want.arch, names(bom))
		return
	}
	if c.Version != want.version {
		t.Errorf("%s: version %q, dpkg-query says %q", want.name, c.Version, want.version)
	}
	u, err := packageurl.FromString(c.PackageURL)
	q := u.Qualifiers.Map()
	if err != nil || u.Type != "deb" || u.Namespace != "debian" || u.Name != want.name || u.Version != want.version || q["arch"] != want.arch ||
		!regexp.MustCompile(`^`+regexp.QuoteMeta(distroQualifier(t))+`(\.[0-9]+)?$`).MatchString(q["distro"]) {
		t.Errorf("%s: purl %q (%v), want pkg:deb/debian/%s@%s with arch=%s and distro=%s[.MINOR]", want.name, c.PackageURL, err, want.name, want.version, want.arch, distroQualifier(t))
	}
}

func names(bom *cyclonedx.BOM) []string {
	var out []string
	for n := range components(bom) {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestELFDependencies compiles C, C++ and Fortran programs with the host's
// compilers against Debian's libraries, and checks that their SBOMs list the
// packages owning every shared library they load (directly or not), with
// dpkg's versions and syft's purls, and the dependency graph from the
// binary to them.
func TestELFDependencies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, compiler, src string
		flags               []string
		mustList            []string // Debian packages that must be among them (so that the oracle is not empty)
	}{
		{"c", "gcc", "#include <math.h>\n#include <zlib.h>\n#include <stdio.h>\nint main(int c, char **v) { printf(\"%f %s\\n\", sqrt((double)c), zlibVersion()); return 0; }\n",
			[]string{"-lm", "-lz"}, []string{"libc6", "zlib1g"}},
		{"cxx", "g++", "#include <iostream>\n#include <vector>\nint main() { std::vector<int> v{1, 2}; std::cout << v.size() << std::endl; }\n",
			nil, []string{"libstdc++6", "libgcc-s1", "libc6"}},
		{"fortran", "gfortran", "program hello\n  print *, 'hello', sqrt(2.0)\nend program hello\n",
			nil, []string{"libgfortran5", "libgcc-s1", "libc6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws := t.TempDir()
			bin := compile(t, tc.compiler, ws, "app", tc.src, tc.flags...)
			all, direct := lddPackages(t, bin)
			for _, p := range tc.mustList {
				if !slices.Contains(all, p) {
					t.Fatalf("ldd and dpkg-query say the binary loads %v, without %s", all, p)
				}
			}
			res, err := Generate(context.Background(), Options{Subject: "app", Dir: ws, Created: created})
			if err != nil {
				t.Fatal(err)
			}
			if res.Native == nil || res.Native.Missing != 0 || res.Native.Unowned != 0 || res.Native.Packaged == 0 {
				t.Fatalf("Native = %+v, want every library found and packaged", res.Native)
			}
			bom := cdxDoc(t, filepath.Join(ws, res.Output), sha256sum(t, bin))
			for _, p := range all {
				checkDeb(t, bom, p)
			}
			if got := names(bom); !slices.Equal(got, all) {
				t.Errorf("components %v, want exactly the packages %v", got, all)
			}
			checkDirect(t, bom, direct)
			if c := components(bom)["libc6"]; c.Licenses == nil || len(*c.Licenses) == 0 {
				t.Error("libc6 has no licenses (from /usr/share/doc/libc6/copyright)")
			}
			if l := property(components(bom)["libc6"], "syft:location:"); !slices.ContainsFunc(l, func(p string) bool { return strings.HasSuffix(p, "/libc.so.6") }) {
				t.Errorf("libc6's locations %v do not name libc.so.6", l)
			}
		})
	}
}

// lddPackages is the oracle: the Debian packages owning the files that the
// real loader maps for bin (ldd), and those owning the libraries bin names
// itself (readelf's NEEDED, and the interpreter), each found with
// dpkg-query -S and checked to be the same file.
func lddPackages(t *testing.T, bin string) (all, direct []string) {
	t.Helper()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", bin, err)
	}
	byName := map[string]string{} // soname or interpreter path → package
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		var name, path string
		switch {
		case len(f) >= 3 && f[1] == "=>":
			name, path = f[0], f[2]
		case len(f) == 2 && strings.HasPrefix(f[0], "/"):
			name, path = f[0], f[0]
		default:
			continue // linux-vdso.so.1
		}
		p := dpkgOwner(t, path)
		byName[name] = p
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	re, err := exec.Command("readelf", "-d", "-l", bin).Output()
	if err != nil {
		t.Skipf("readelf %s: %v", bin, err)
	}
	for _, m := range regexp.MustCompile(`Shared library: \[([^\]]+)\]|Requesting program interpreter: ([^\]]+)\]`).FindAllStringSubmatch(string(re), -1) {
		p := byName[m[1]+m[2]]
		if p == "" {
			t.Fatalf("ldd does not show %s%s", m[1], m[2])
		}
		if !slices.Contains(direct, p) {
			direct = append(direct, p)
		}
	}
	slices.Sort(all)
	return all, direct
}

// dpkgOwner is the package that installed the file at path, by dpkg-query
// -S on its base name, keeping the entry that is the same file.
func dpkgOwner(t *testing.T, path string) string {
	t.Helper()
	target, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dpkg-query", "-S", "*/"+filepath.Base(path)).Output()
	if err != nil {
		t.Skipf("dpkg-query -S %s: %v", path, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		pkgs, file, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if fi, err := os.Stat(file); err == nil && os.SameFile(fi, target) {
			name, _, _ := strings.Cut(strings.Split(pkgs, ", ")[0], ":")
			return name
		}
	}
	t.Fatalf("dpkg-query -S finds no package that installed %s:\n%s", path, out)
	return ""
}

// checkDirect checks the subject's edges in the CycloneDX dependency graph.
func checkDirect(t *testing.T, bom *cyclonedx.BOM, want []string) {
	t.Helper()
	if bom.Dependencies == nil {
		t.Fatal("no dependencies in the document")
	}
	byRef := map[string]string{}
	for n, c := range components(bom) {
		byRef[c.BOMRef] = n
	}
	for _, d := range *bom.Dependencies {
		if d.Ref != bom.Metadata.Component.BOMRef || d.Dependencies == nil {
			continue
		}
		var got []string
		for _, r := range *d.Dependencies {
			got = append(got, byRef[r])
		}
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			t.Errorf("the subject depends on %v, want %v", got, w)
		}
		return
	}
	t.Errorf("the subject %q has no entry in dependencies", bom.Metadata.Component.BOMRef)
}

// TestELFVendoredAndMissing: a library found through $ORIGIN that no
// package owns is listed by name with its path (its own needs are followed:
// zlib1g), and once removed it is listed as not found; a static binary
// lists none.
func TestELFVendoredAndMissing(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	lib := filepath.Join(ws, "dist", "lib")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	compile(t, "gcc", lib, "libfoo.so.1", "#include <zlib.h>\nconst char *foo(void) { return zlibVersion(); }\n", "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-lz")
	compile(t, "gcc", filepath.Join(ws, "dist"), "app", "const char *foo(void);\nint main(void) { return foo()[0] == 0; }\n",
		filepath.Join(lib, "libfoo.so.1"), "-Wl,-rpath,$ORIGIN/lib")

	res, err := Generate(context.Background(), Options{Subject: "dist/app", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	bom := decodeCDX(t, filepath.Join(ws, res.Output))
	foo, ok := components(bom)["libfoo.so.1"]
	if !ok || foo.Version != "" || foo.PackageURL != "" {
		t.Fatalf("libfoo.so.1: %+v (present %v), want a component without version or purl", foo, ok)
	}
	if by := property(foo, "syft:package:foundBy"); !slices.Equal(by, []string{FoundByELFNeeded}) {
		t.Errorf("libfoo.so.1 found by %v, want %s", by, FoundByELFNeeded)
	}
	if l := property(foo, "syft:location:"); !slices.ContainsFunc(l, func(p string) bool { return strings.HasSuffix(p, "/dist/lib/libfoo.so.1") }) {
		t.Errorf("libfoo.so.1's locations %v do not name dist/lib/libfoo.so.1", l)
	}
	checkDeb(t, bom, "zlib1g")
	checkDirect(t, bom, []string{"libc6", "libfoo.so.1"})

	if err := os.RemoveAll(lib); err != nil {
		t.Fatal(err)
	}
	res, err = Generate(context.Background(), Options{Subject: "dist/app", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if res.Native.Missing != 1 {
		t.Errorf("Native = %+v, want 1 missing", res.Native)
	}
	foo = components(decodeCDX(t, filepath.Join(ws, res.Output)))["libfoo.so.1"]
	if by := property(foo, "syft:package:foundBy"); !slices.Equal(by, []string{FoundByELFNotFound}) {
		t.Errorf("missing libfoo.so.1 found by %v, want %s", by, FoundByELFNotFound)
	}

	compile(t, "gcc", ws, "static", "int main(void) { return 0; }\n", "-static")
	res, err = Generate(context.Background(), Options{Subject: "static", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if res.Native != nil {
		t.Errorf("a static binary: Native = %+v, want nil", res.Native)
	}
}

// TestELFGolden compares the structure of a C++ binary's document with
// testdata/golden/cxx-app.cdx.json, volatile values (versions, purls,
// bom-refs, hashes, licenses, package metadata) normalized.
func TestELFGolden(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	compile(t, "g++", ws, "app", "#include <iostream>\nint main() { std::cout << 1 << std::endl; }\n")
	res, err := Generate(context.Background(), Options{Subject: "app", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(ws, res.Output))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalize(doc, "")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "normalized.json")
	mustWrite(t, out, b.String())
	compareGolden(t, out, filepath.Join("testdata", "golden", "cxx-app.cdx.json"))
}

var volatileKeys = map[string]bool{"version": true, "purl": true, "bom-ref": true, "ref": true, "dependsOn": true,
	"hashes": true, "licenses": true, "serialNumber": true, "cpe": true, "url": true}

// normalize replaces the values that depend on the host's package versions
// or the compiler's output with "<normalized>", and drops syft:metadata
// properties (dpkg's fields, which vary with the package).
func normalize(v any, key string) any {
	if volatileKeys[key] {
		return "<normalized>"
	}
	switch x := v.(type) {
	case map[string]any:
		if n, ok := x["name"].(string); ok && strings.HasPrefix(n, "syft:metadata:") {
			return nil
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalize(e, k)
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if n := normalize(e, ""); n != nil {
				out = append(out, n)
			}
		}
		return out
	}
	return v
}

// FuzzReadELF: no input makes the ELF reader panic or hang; what it
// accepts has bounded lists.
func FuzzReadELF(f *testing.F) {
	if exe, err := os.Executable(); err == nil {
		if b, err := os.ReadFile(exe); err == nil {
			f.Add(b[:min(len(b), 1<<16)])
		}
	}
	if b, err := os.ReadFile("/bin/true"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("\x7fELF"))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := readELF(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(obj.needed) > maxNeeded || len(obj.rpath) > maxSearchDirs || len(obj.runpath) > maxSearchDirs || len(obj.interp) > maxInterpLen {
			t.Errorf("limits exceeded: %d needed, %d rpath, %d runpath, interp %d bytes", len(obj.needed), len(obj.rpath), len(obj.runpath), len(obj.interp))
		}
	})
}

// FuzzParseLdSoConf: ld.so.conf parsing never panics and returns only
// absolute, clean directories.
func FuzzParseLdSoConf(f *testing.F) {
	f.Add([]byte("include /etc/ld.so.conf.d/*.conf\n/usr/local/lib # local\nhwcap 0 nosegneg\n"))
	f.Add([]byte("/opt/a:/opt/b,/opt/c\trelative\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dirs, _ := parseLdSoConf(data)
		for _, d := range dirs {
			if !filepath.IsAbs(d) || filepath.Clean(d) != d {
				t.Errorf("directory %q is not absolute and clean", d)
			}
		}
	})
}
