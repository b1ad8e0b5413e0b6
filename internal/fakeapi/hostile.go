package fakeapi

import (
	"fmt"
	"net/http"
	"strings"
)

// Hostile is an answer that carries secrets back: the API key the client
// sent, and an instance_api_key, in every shape a broken or hostile API or
// proxy could use. Tests assert that no piece of either reaches a caller.
// An instance key is recognised by its field's name, so each answer names
// it at least once.
type Hostile struct {
	Name    string
	Handler http.Handler
}

// HostileAnswers returns one handler per shape, carrying key and instanceKey.
func HostileAnswers(key, instanceKey string) []Hostile {
	zeroWidth := func(s string) string { // the key with invisible characters between its runes
		return strings.Join(strings.Split(s, ""), "\u200b")
	}
	answers := []Hostile{
		// 2xx that are almost JSON: quoted as "outcome unknown".
		{"200 with a byte-order mark", answer(200, "application/json", nil, "\ufeff"+`{"success": true, "new_contract": 5, "instance_api_key": "`+instanceKey+`"}`)},
		{"200 with trailing text", answer(200, "application/json", nil, `{"success": true, "new_contract": 5, "instance_api_key": "`+instanceKey+`"} trailing`)},
		{"200 with two documents", answer(200, "application/json", nil, `{"success":true,"new_contract":5,"instance_api_key":"`+instanceKey+`"}{"success":true}`)},
		{"200 missing a brace", answer(200, "application/json", nil, `{"success": true, "new_contract": 5, "instance_api_key": "`+instanceKey+`"`)},
		{"200 cut inside the value", answer(200, "application/json", nil, `{"success": true, "instance_api_key": "`+instanceKey[:len(instanceKey)-3])},
		{"200 in Python repr", answer(200, "text/plain", nil, `{'success': True, 'new_contract': 5, 'instance_api_key': '`+instanceKey+`'}`)},
		{"200 as a query string", answer(200, "text/plain", nil, "success=1&instance_api_key="+instanceKey+"&new_contract=5")},
		{"200 with a wrong type", answer(200, "application/json", nil, `{"success": true, "new_contract": "`+key+`", "instance_api_key": "`+instanceKey+`"}`)},
		{"200 success false echoing both", answer(200, "application/json", nil, `{"success": false, "error": "`+key+`", "msg": "key `+key+` made instance_api_key: `+instanceKey+`"}`)},
		// Errors.
		{"400 with escaped JSON in msg", answer(400, "application/json", nil, `{"success": false, "error": "invalid_args", "msg": "{\"instance_api_key\": \"`+instanceKey+`\", \"k\": \"`+key+`\"}"}`)},
		{"429 echoing the Authorization header", answer(429, "application/json", nil, `{"detail": "Authorization: Bearer `+key+`"}`)},
		{"502 HTML with the key in the title", answer(502, "text/html", nil, "<html><head><title>"+key+"</title></head></html>")},
		{"502 HTML with the key split by invisible characters", answer(502, "text/html", nil, "<title>"+zeroWidth(key)+"</title>")},
		{"500 text with the key split by invisible characters", answer(500, "text/plain", nil, zeroWidth(key)+" "+zeroWidth(`"instance_api_key": "`+instanceKey+`"`))},
		{"500 text, key split by control characters", answer(500, "text/plain", nil, "\x1b[31m"+key[:10]+"\x1b[0m"+key[10:])},
		{"301 to a URL with the key as password", answer(301, "text/plain", http.Header{"Location": {"https://user:" + key + "@evil.example/"}}, "")},
		{"301 to a URL with the key in the query", answer(301, "text/plain", http.Header{"Location": {"https://evil.example/?api_key=" + key + "&x=1"}}, "")},
		{"301 to a URL with the key in the path", answer(301, "text/plain", http.Header{"Location": {"https://evil.example/" + key + "/"}}, "")},
		{"400 with an instance key in an unnamed place", answer(400, "text/plain", nil, "instance_api_key="+instanceKey+" and again "+instanceKey)},
		{"malformed status line", rawAnswer("HTTP/1.1 2" + key + " " + instanceKey + "\r\n\r\n")},
		{"malformed header", rawAnswer("HTTP/1.1 200 OK\r\n" + key + "\r\n\r\n")},
	}
	// A long body cut for display, with the key at every position across
	// the cut, padded by letters and by whitespace that collapses.
	for _, pad := range []string{"x", " ", "\u200b"} {
		for n := 270; n <= 310; n++ {
			body := strings.Repeat(pad, n) + key + ` {"instance_api_key": "` + instanceKey + `"}`
			answers = append(answers,
				Hostile{fmt.Sprintf("500 text, key after %d %q", n, pad), answer(500, "text/plain", nil, body)},
				Hostile{fmt.Sprintf("500 HTML title, key after %d %q", n, pad), answer(500, "text/html", nil, "<title>"+body+"</title>")},
				Hostile{fmt.Sprintf("200 not JSON, key after %d %q", n, pad), answer(200, "application/json", nil, body)},
			)
		}
	}
	return answers
}

func answer(status int, contentType string, header http.Header, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// rawAnswer writes bytes that are not valid HTTP, so the failure comes from
// the client's transport, whose error quotes them.
func rawAnswer(raw string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
	})
}
