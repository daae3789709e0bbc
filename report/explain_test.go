package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

func TestExplainCoversEveryState(t *testing.T) {
	if len(Explanations) != len(inspect.States) {
		t.Fatalf("%d explanations for %d states", len(Explanations), len(inspect.States))
	}
	for i, s := range inspect.States {
		e := Explanations[i]
		if e.State != s {
			t.Errorf("explanation %d is for %s, want %s (kernel order)", i, e.State, s)
		}
		if e.Meaning == "" || e.Closer == "" || e.Blame == "" || e.BuildUp == "" || e.EndedBy == "" || e.Ends == "" {
			t.Errorf("%s: incomplete explanation %+v", s, e)
		}
		var b bytes.Buffer
		if err := Explain(&b, s); err != nil {
			t.Errorf("Explain(%s): %v", s, err)
		}
		if !strings.HasPrefix(b.String(), s.String()+": ") {
			t.Errorf("Explain(%s) = %q", s, b.String())
		}
	}
	var all bytes.Buffer
	if err := ExplainAll(&all); err != nil {
		t.Fatal(err)
	}
	for _, s := range inspect.States {
		if !strings.Contains(all.String(), "\n"+s.String()+" ") {
			t.Errorf("ExplainAll lacks a row for %s", s)
		}
	}
}

// The facts the diagnosis rests on (KERNEL-NOTES.md): whose bug, and which
// timer ends each state.
func TestExplainKernelFacts(t *testing.T) {
	for _, tt := range []struct {
		state inspect.TCPState
		want  []string
	}{
		{inspect.CloseWait, []string{"closed first by: the peer", "this process leaks", "nothing in the kernel: only close()", "usually in FIN_WAIT2"}},
		{inspect.FinWait2, []string{"closed first by: this side", "the peer leaks", "tcp_fin_timeout, 60 s", "no timeout at all", "usually in CLOSE_WAIT"}},
		{inspect.TimeWait, []string{"fixed 60 s", "tcp_fin_timeout does not change it"}},
	} {
		var b bytes.Buffer
		if err := Explain(&b, tt.state); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(b.String()), " ")
		for _, w := range tt.want {
			if !strings.Contains(text, w) {
				t.Errorf("explain %s lacks %q:\n%s", tt.state, w, b.String())
			}
		}
	}
}
