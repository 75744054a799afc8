package fieldpath

import (
	"errors"
	"testing"
)

func TestUnder(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{Errorf("sigma", "must be positive"), "world.eth.sigma: must be positive"},
		{Errorf("[2].mean", "must be finite"), "world.eth[2].mean: must be finite"},
		{Errorf("", "bad section"), "world.eth: bad section"},
		{errors.New("plain"), "plain"},
	}
	for _, c := range cases {
		got := Under("world", Under("eth", c.err))
		if got.Error() != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if Under("x", nil) != nil {
		t.Error("Under(nil) must be nil")
	}
}

func TestUnderJoined(t *testing.T) {
	err := Under("a", errors.Join(Errorf("b", "one"), Errorf("c", "two")))
	want := "a.b: one\na.c: two"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Path != "a.b" {
		t.Errorf("errors.As found %+v", fe)
	}
}
