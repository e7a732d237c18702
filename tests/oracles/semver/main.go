// Oracle for tests/gitops/test_semver.py: answers with github.com/Masterminds/semver/v3,
// the library Flux's image policies use. One request per stdin line, tab-separated:
//
//	V <version>              -> "ok <String()>" or "err"
//	C <constraint> <version> -> "true", "false", "cerr" (constraint) or "verr" (version)
//	P <a> <b>                -> Compare(a, b) as -1/0/1, or "err"
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
)

func answer(line string) string {
	f := strings.Split(line, "\t")
	switch {
	case f[0] == "V" && len(f) == 2:
		v, err := semver.NewVersion(f[1])
		if err != nil {
			return "err"
		}
		return "ok " + v.String()
	case f[0] == "C" && len(f) == 3:
		c, err := semver.NewConstraint(f[1])
		if err != nil {
			return "cerr"
		}
		v, err := semver.NewVersion(f[2])
		if err != nil {
			return "verr"
		}
		return fmt.Sprint(c.Check(v))
	case f[0] == "P" && len(f) == 3:
		a, err1 := semver.NewVersion(f[1])
		b, err2 := semver.NewVersion(f[2])
		if err1 != nil || err2 != nil {
			return "err"
		}
		return fmt.Sprint(a.Compare(b))
	}
	return "bad request"
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		fmt.Fprintln(out, answer(in.Text()))
	}
}
