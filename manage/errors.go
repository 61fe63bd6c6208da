package manage

import "fmt"

// Error is a management API error: an HTTP status and a message that says
// what to do. Param names the offending field, when there is one.
type Error struct {
	Status  int
	Message string
	Param   string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

func errorf(status int, param, format string, args ...any) *Error {
	return &Error{Status: status, Param: param, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 about param.
func BadRequest(param, format string, args ...any) *Error { return errorf(400, param, format, args...) }

// Forbidden is a 403.
func Forbidden(format string, args ...any) *Error { return errorf(403, "", format, args...) }

// NotFound is a 404.
func NotFound(param, format string, args ...any) *Error { return errorf(404, param, format, args...) }
