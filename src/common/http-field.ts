// What no HTTP header field value may hold (RFC 9110 5.5): control characters other than tab.
// CR and LF above all: inside a value they would end the line and start a header of their own.
// One definition for the proxy's writer and for the configuration it is given (API and xDS).

// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
export const FORBIDDEN_IN_FIELD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
