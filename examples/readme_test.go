package examples

import (
	"os"
	"regexp"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
	"github.com/nedry-chaos/nedry/host-test/hosttesting"
)

// jsonBlock is a fenced ```json block of a Markdown file.
var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// TestREADME_configsCheckedByWasm runs every JSON block of the README, the
// user manual, through build/nedry.wasm, so a documented configuration
// cannot drift from what the filter accepts.
func TestREADME_configsCheckedByWasm(t *testing.T) {
	readme, err := os.ReadFile(hosttest.RepoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := jsonBlock.FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```json block: the configuration reference lost its example")
	}
	h := hosttesting.Filter(t)
	for i, b := range blocks {
		if err := h.Check(b[1]); err != nil {
			t.Errorf("README.md json block %d refused by build/nedry.wasm:\n%v\n%s", i+1, err, b[1])
		}
	}
}
