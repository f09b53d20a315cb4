<?php
// The Roundcube plugin's protocol client (webmail/roundcube/verdon/lib/verdon_client.php) on its
// own, against the real daemon and against fake servers that answer nothing or garbage.
// Usage: php verdon_client_test.php AUTH_SOCKET SILENT_SOCKET GARBAGE_SOCKET. Prints TAP-like
// "ok - …" / "not ok - …" lines.

require __DIR__ . '/../../webmail/roundcube/verdon/lib/verdon_client.php';

[$_, $auth, $silent, $garbage] = $argv;
$failed = 0;
function t(bool $cond, string $desc, string $why = ''): void
{
    global $failed;
    echo ($cond ? 'ok' : 'not ok') . " - $desc\n";
    if (!$cond) {
        $failed++;
        if ($why !== '') {
            echo "# $why\n";
        }
    }
}
// The exception's message when $fn throws verdon_exception, '' when it does not.
function throws(callable $fn): string
{
    try {
        $fn();
    }
    catch (verdon_exception $e) {
        return $e->getMessage() ?: 'exception';
    }
    return '';
}

$tricky = "a\tb\nc\rd\1e\\f=g";
t(verdon_client::escape($tricky) === "a\1tb\1nc\1rd\1" . "1e\\f=g", 'escape: TAB, LF, CR and \\001');
t(verdon_client::unescape(verdon_client::escape($tricky)) === $tricky, 'unescape(escape(x)) == x');
t(throws(fn() => verdon_client::unescape("a\1zb")) !== '', 'unescape: \\001 followed by anything else is an error');

$c = new verdon_client($auth, 5);
$a = $c->request('AUTH', ['login' => "nobody\there", 'password' => $tricky, 'service' => 'webmail', 'address' => '192.0.2.1']);
t($a->verb === 'FAIL' && $a->reason() === 'invalid', 'AUTH with escaped TAB/LF/\\001 in its values: FAIL invalid, not bad_request',
    "$a->verb " . json_encode($a->fields));
$a = $c->request('LOGOUT', ['token' => 'vt-nothing']);
t($a->ok() && $a->id === '2', 'a second request on the same connection (LOGOUT): OK with its own id');
$a = $c->request('NOPE', []);
t($a->reason() === 'unknown_verb', 'an unknown verb: FAIL unknown_verb', json_encode($a->fields));
t(throws(fn() => $c->request('AUTH', ['login' => str_repeat('x', 20000)])) !== '',
    'a request over 16384 bytes: verdon_exception, nothing sent');
t(throws(fn() => $c->request('AUTH', ['Bad Key' => 'x'])) !== '', 'a bad field name: verdon_exception');
$c->close();

$m = throws(fn() => new verdon_client('/nonexistent/auth.sock', 2));
t(str_contains($m, 'cannot connect'), 'no daemon: verdon_exception "cannot connect"', $m);
$t0 = microtime(true);
$m = throws(fn() => new verdon_client($silent, 1));
$dt = microtime(true) - $t0;
t(str_contains($m, 'no answer in time') && $dt < 5, sprintf('a server that never answers: "no answer in time" after %.1f s (timeout 1 s)', $dt), $m);
$m = throws(fn() => new verdon_client($garbage, 2));
t($m !== '', 'a server that answers garbage: verdon_exception', $m);
exit($failed ? 1 : 0);
