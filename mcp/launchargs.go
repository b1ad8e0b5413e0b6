package mcp

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// cliOptionsJSON is the vastai CLI's own option list for create instance,
// with its provenance: the grammar the service reads launch_args with.
//
//go:embed vastai_create_instance.json
var cliOptionsJSON []byte

type cliOption struct {
	Flags []string `json:"flags"`
	Nargs string   `json:"nargs"` // "0", "1" or "remainder"
}

// name is the option's long form, by which the guardrails know it.
func (o *cliOption) name() string { return o.Flags[len(o.Flags)-1] }

var cliOptions = sync.OnceValue(func() map[string]*cliOption {
	var file struct{ Options []*cliOption }
	if err := json.Unmarshal(cliOptionsJSON, &file); err != nil {
		panic("vastai_create_instance.json: " + err.Error())
	}
	byFlag := map[string]*cliOption{}
	for _, o := range file.Options {
		for _, f := range o.Flags {
			byFlag[f] = o
		}
	}
	return byFlag
})

// negativeNumber is what argparse takes for a value rather than an option
// when, as here, no option looks like a negative number.
var negativeNumber = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`) })

// launchArg is one option of launch_args as the CLI's argparse reads it.
type launchArg struct {
	option  *cliOption
	written string // the token as written, for messages
	value   string
}

// parseLaunchArgs reads launch_args exactly as the vastai CLI's argparse
// would (allow_abbrev on): an option is its exact name, or --name=value, or
// an unambiguous prefix of a long option, with or without =value. What
// argparse would refuse, and what it would read other than as an option and
// its value, is an error: it cannot be checked.
func parseLaunchArgs(s string) ([]launchArg, error) {
	if strings.Contains(s, `\`) {
		// Shell splitters disagree on backslashes inside quotes.
		return nil, fmt.Errorf("backslashes are not accepted; quote with ' or \" instead")
	}
	words, err := splitShellWords(s)
	if err != nil {
		return nil, err
	}
	var args []launchArg
	for i := 0; i < len(words); i++ {
		word := words[i]
		if word == "--" {
			return nil, fmt.Errorf(`"--" is not accepted`)
		}
		opt, value, inline, err := resolveOption(word)
		if err != nil {
			return nil, err
		}
		if opt == nil {
			return nil, fmt.Errorf("unexpected %s: only options are accepted (the CLI would read it as the offer id or refuse it)", token(word))
		}
		arg := launchArg{option: opt, written: word}
		switch opt.Nargs {
		case "0":
			if inline {
				return nil, fmt.Errorf("%s takes no value", token(optionPart(word)))
			}
		case "remainder":
			if inline {
				arg.value = value
				break
			}
			// argparse gives it every token that follows.
			arg.value = strings.Join(words[i+1:], " ")
			i = len(words)
		default:
			if !inline {
				if i+1 == len(words) {
					return nil, fmt.Errorf("%s needs a value", token(word))
				}
				if next, _, _, err := resolveOption(words[i+1]); next != nil || err != nil {
					return nil, fmt.Errorf("%s needs a value, not %s", token(word), token(words[i+1]))
				}
				i++
				value = words[i]
			}
			arg.value = value
		}
		args = append(args, arg)
	}
	return args, nil
}

// resolveOption finds the option a token names, as argparse's
// _parse_optional does: nil with no error is a token argparse reads as a
// value.
func resolveOption(word string) (opt *cliOption, value string, inline bool, err error) {
	options := cliOptions()
	if word == "" || word[0] != '-' || word == "-" {
		return nil, "", false, nil
	}
	if o, ok := options[word]; ok {
		return o, "", false, nil
	}
	name, value, inline := strings.Cut(word, "=")
	if o, ok := options[name]; ok && inline {
		return o, value, true, nil
	}
	if !strings.HasPrefix(word, "--") {
		// argparse also reads "-hx" and "-h x" as -h with a value.
		if _, short := options[word[:2]]; short || isOptionLike(word) {
			return nil, "", false, fmt.Errorf("%s: short options are not accepted; write the long option in full", token(word))
		}
		return nil, "", false, nil
	}
	var matches []string
	for flag, o := range options {
		if strings.HasPrefix(flag, name) {
			opt = o
			matches = append(matches, flag)
		}
	}
	switch {
	case len(matches) == 1:
		return opt, value, inline, nil
	case len(matches) > 1:
		slices.Sort(matches)
		return nil, "", false, fmt.Errorf("%s is ambiguous: it could be any of %s", token(name), strings.Join(matches, ", "))
	case isOptionLike(word):
		return nil, "", false, fmt.Errorf("%s is not an option of vastai create instance", token(name))
	}
	return nil, "", false, nil
}

// isOptionLike is argparse's test for a token it takes as an option even
// though no option matches it.
func isOptionLike(word string) bool {
	return len(word) > 1 && word[0] == '-' && !negativeNumber().MatchString(word) && !strings.Contains(word, " ")
}

// optionPart is a token without its inline value.
func optionPart(word string) string {
	n, _, _ := strings.Cut(word, "=")
	return n
}

// token quotes a word of launch_args for a message, bounded: the message
// goes back to the agent, and a word may be long.
func token(word string) string {
	const limit = 40
	if r := []rune(word); len(r) > limit {
		return strconv.Quote(string(r[:limit])) + "…"
	}
	return strconv.Quote(word)
}
