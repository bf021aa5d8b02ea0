package contract

import (
	"fmt"
	"os"
	"testing"
)

func TestZZTry(t *testing.T) {
	in, _ := os.ReadFile(os.Getenv("F"))
	c, un, err := ParseODCS(in)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("unmodeled", un)
	fmt.Println("validate", Validate(c))
	out, _ := ExportODCS(c)
	os.WriteFile("/tmp/out.yaml", out, 0o644)
}
