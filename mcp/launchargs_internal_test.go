package mcp

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliOptionsForTest reads the recorded option list itself, so that the test
// does not trust the parser's reading of it.
func cliOptionsForTest(t *testing.T) [][]string {
	t.Helper()
	data, err := os.ReadFile("vastai_create_instance.json")
	require.NoError(t, err)
	var file struct {
		Options []struct {
			Flags []string `json:"flags"`
			Nargs string   `json:"nargs"`
		} `json:"options"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	var options [][]string
	for _, o := range file.Options {
		options = append(options, append([]string{o.Nargs}, o.Flags...))
	}
	return options
}

// Every spelling argparse accepts for an option (its name, any unambiguous
// prefix, with the value after a blank or an "=") is held to the same rule,
// and an ambiguous prefix is refused, for every option the CLI defines.
func TestLaunchArgsEverySpellingOfEveryOptionIsChecked(t *testing.T) {
	g := &Guardrails{Images: []string{"vllm/*"}, MaxDisk: 50, MaxPrice: 1}
	const base = "--image vllm/ok "
	// What each option may carry under these caps; refused when absent.
	type rule struct{ good, bad, want string }
	rules := map[string]rule{
		"--image":          {good: "vllm/ok", bad: "evil/miner", want: "not on the operator's list"},
		"--disk":           {good: "20", bad: "5000", want: "over the cap"},
		"--bid_price":      {good: "0.5", bad: "9", want: "over the cap"},
		"--volume-size":    {good: "20", bad: "5000", want: "over the cap"},
		"--env":            {good: "-e A=1 -p 80:80", bad: "--privileged", want: "--env"},
		"--user":           {good: "x"},
		"--login":          {good: "-u u -p p docker.io"},
		"--label":          {good: "x"},
		"--jupyter-dir":    {good: "/x"},
		"--create-volume":  {good: "7"},
		"--link-volume":    {good: "7"},
		"--mount-path":     {good: "/x"},
		"--volume-label":   {good: "x"},
		"--ssh":            {},
		"--jupyter":        {},
		"--direct":         {},
		"--jupyter-lab":    {},
		"--lang-utf8":      {},
		"--python-utf8":    {},
		"--force":          {},
		"--cancel-unavail": {},
	}
	options := cliOptionsForTest(t)
	var longFlags []string
	for _, o := range options {
		for _, f := range o[1:] {
			if strings.HasPrefix(f, "--") {
				longFlags = append(longFlags, f)
			}
		}
	}
	resolve := func(p string) (string, bool) {
		var matches []string
		for _, f := range longFlags {
			if f == p {
				return f, true
			}
			if strings.HasPrefix(f, p) {
				matches = append(matches, f)
			}
		}
		if len(matches) == 1 {
			return matches[0], true
		}
		return "", false
	}
	quote := func(v string) string { return "'" + v + "'" }
	checks := 0
	for _, o := range options {
		nargs := o[0]
		for _, flag := range o[1:] {
			if !strings.HasPrefix(flag, "--") {
				assert.Error(t, g.checkLaunchArgs(base+flag), "%s: a short option is refused", flag)
				continue
			}
			for n := 3; n <= len(flag); n++ {
				p := flag[:n]
				name, ok := resolve(p)
				if !ok {
					for _, la := range []string{base + p + " x", base + p + "=x"} {
						err := g.checkLaunchArgs(la)
						if assert.Error(t, err, la) {
							assert.Contains(t, err.Error(), "ambiguous", la)
						}
					}
					continue
				}
				if name != flag {
					continue // another option's exact name, tested there
				}
				r, allowed := rules[name]
				prefix := base
				if name == "--volume-size" {
					prefix += "--create-volume 7 "
				}
				if nargs == "0" {
					la := prefix + p
					checks++
					if allowed {
						assert.NoError(t, g.checkLaunchArgs(la), la)
					} else {
						assert.Error(t, g.checkLaunchArgs(la), la)
					}
					assert.Error(t, g.checkLaunchArgs(prefix+p+"=1"), "%s=1: the CLI refuses a value here", p)
					continue
				}
				good := r.good
				if !allowed {
					good = "x"
				}
				suffix := ""
				if name == "--create-volume" {
					suffix = " --volume-size 20"
				}
				for _, la := range []string{prefix + p + " " + quote(good) + suffix, prefix + p + "=" + quote(good) + suffix} {
					checks++
					if allowed {
						assert.NoError(t, g.checkLaunchArgs(la), la)
					} else {
						assert.Error(t, g.checkLaunchArgs(la), la)
					}
				}
				if r.bad == "" {
					continue
				}
				for _, la := range []string{prefix + p + " " + quote(r.bad), prefix + p + "=" + quote(r.bad)} {
					checks++
					err := g.checkLaunchArgs(la)
					if assert.Error(t, err, la) {
						assert.Contains(t, err.Error(), r.want, la)
					}
				}
			}
		}
	}
	assert.Greater(t, checks, 100)
}

// A capped number is a positive, finite number within the cap; anything
// Python's float() or int() might read otherwise is refused.
func TestLaunchArgsNonsenseNumbersDoNotPassACap(t *testing.T) {
	g := &Guardrails{MaxDisk: 50, MaxPrice: 1}
	for _, opt := range []string{"--disk", "--bid_price", "--volume-size", "--dis", "--bid"} {
		for _, v := range []string{"nan", "NaN", "inf", "-inf", "Infinity", "+inf", "1e999", "-0", "0", "-5", "1e-400", "0x1p9", "5_000", " 5000", "１"} {
			prefix := ""
			if strings.HasPrefix("--volume-size", opt) {
				prefix = "--create-volume 7 "
			}
			for _, la := range []string{prefix + opt + " '" + v + "'", prefix + opt + "='" + v + "'"} {
				assert.Error(t, g.checkLaunchArgs(la), la)
			}
		}
	}
}

// Tokens argparse would take as something other than an option and its
// value cannot be checked, so they are refused under an instance cap.
func TestLaunchArgsThatCannotBeCheckedAreRefused(t *testing.T) {
	g := &Guardrails{MaxDisk: 50}
	for _, la := range []string{
		"12345",                        // a positional: the offer id
		"--disk 20 extra",              // a stray positional
		"-- --disk 5000",               // end of options
		"--disk",                       // no value
		"--label --disk 5000",          // an option where a value should be
		"--price 9",                    // not a CLI option
		"--bid-price 9",                // nor this spelling
		"--disk 20 --url http://x",     // a global option
		"--api-key k",                  // another
		"--create-volume 7",            // a new volume of the CLI's default size
		`--disk "20\0"`,                // escapes that splitters disagree on
		"--label 'unclosed",            // unreadable
		"-hdisk",                       // short options
		"--label '-h x'",               // argparse reads -h here too
		"--extra '{\"disk\": 5000}'",   // hidden option the CLI forwards
		"--disk 20 --args --disk 5000", // fine for argparse, but runs commands? only under --allow-image
	} {
		err := g.checkLaunchArgs(la)
		if la == "--disk 20 --args --disk 5000" {
			assert.NoError(t, err, "--args takes the rest; with no image cap commands are not bounded")
			continue
		}
		assert.Error(t, err, la)
	}
}
