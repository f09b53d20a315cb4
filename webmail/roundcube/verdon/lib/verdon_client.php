<?php

/**
 * A client of verdon's line protocol (proto/PROTOCOL.md), for PHP webmails.
 *
 * One connection per object: connect with a timeout, exchange VERSION lines, then one request
 * and its answer at a time. Values are escaped (TAB, LF, CR and \001 as \001 t, n, r, 1).
 * Errors (no daemon, timeout, a line that does not parse) are thrown as verdon_exception;
 * refusals are answers (verb FAIL or TEMPFAIL), not exceptions.
 *
 * Depends on nothing but PHP's standard library, so that other webmails can reuse it.
 */

class verdon_exception extends Exception
{
}

/** One answer: verb OK, FAIL, TEMPFAIL or ROW, and its fields. */
class verdon_answer
{
    public $verb;
    public $id;
    public $fields;

    public function __construct(string $verb, string $id, array $fields)
    {
        $this->verb   = $verb;
        $this->id     = $id;
        $this->fields = $fields;
    }

    public function ok(): bool
    {
        return $this->verb === 'OK';
    }

    /** The refusal's reason: "tempfail" for TEMPFAIL, "" for OK. */
    public function reason(): string
    {
        if ($this->verb === 'TEMPFAIL') {
            return 'tempfail';
        }
        return $this->verb === 'OK' ? '' : (string) ($this->fields['reason'] ?? 'invalid');
    }

    public function get(string $key, string $default = ''): string
    {
        return isset($this->fields[$key]) ? $this->fields[$key] : $default;
    }

    /** Wipes the fields (tokens, device secrets) once they have been used. */
    public function wipe(): void
    {
        foreach ($this->fields as $k => $v) {
            verdon_client::wipe($this->fields[$k]);
        }
        $this->fields = [];
    }
}

class verdon_client
{
    const MAX_LINE   = 16384;
    const MAX_FIELDS = 32;

    private $sock;
    private $deadline;
    private $timeout;
    private $next_id = 1;

    /**
     * @param string $path    the auth socket, e.g. /run/verdon/auth.sock
     * @param float  $timeout seconds for the connection and for each answer
     */
    public function __construct(string $path, float $timeout = 5.0)
    {
        $this->timeout = $timeout;
        $errno = 0;
        $errstr = '';
        $sock = @stream_socket_client('unix://' . $path, $errno, $errstr, $timeout);
        if ($sock === false) {
            throw new verdon_exception("verdon: cannot connect to $path: $errstr");
        }
        $this->sock = $sock;
        stream_set_timeout($this->sock, (int) ceil($timeout));
        $this->write("VERSION\t0\tmajor=1\tminor=0\n");
        $this->deadline = microtime(true) + $timeout;
        $hello = $this->read_answer();
        if ($hello->verb !== 'VERSION' || $hello->get('major') !== '1') {
            $this->close();
            throw new verdon_exception('verdon: unexpected greeting from the daemon');
        }
    }

    public function __destruct()
    {
        $this->close();
    }

    public function close(): void
    {
        if ($this->sock) {
            fclose($this->sock);
            $this->sock = null;
        }
    }

    public static function escape(string $v): string
    {
        return strtr($v, ["\1" => "\1" . '1', "\t" => "\1t", "\n" => "\1n", "\r" => "\1r"]);
    }

    public static function unescape(string $v): string
    {
        if (strpos($v, "\1") === false) {
            return $v;
        }
        if (!preg_match('/^(?:[^\x01]|\x01[1tnr])*$/s', $v)) {
            throw new verdon_exception('verdon: bad escape in an answer');
        }
        return strtr($v, ["\1" . '1' => "\1", "\1t" => "\t", "\1n" => "\n", "\1r" => "\r"]);
    }

    /** Overwrites a string that held a secret, as far as PHP allows. */
    public static function wipe(&$s): void
    {
        if (is_string($s) && $s !== '' && function_exists('sodium_memzero')) {
            sodium_memzero($s);
        }
        $s = null;
    }

    /**
     * Sends one request and returns its answer (ROW lines before it are skipped).
     *
     * @param string $verb   e.g. AUTH, LOGOUT, PASSWD
     * @param array  $fields key => value; null values are left out
     */
    public function request(string $verb, array $fields): verdon_answer
    {
        if (!$this->sock) {
            throw new verdon_exception('verdon: connection closed');
        }
        $id = (string) $this->next_id++;
        $line = $verb . "\t" . $id;
        foreach ($fields as $k => $v) {
            if ($v === null) {
                continue;
            }
            if (!preg_match('/^[a-z0-9_]{1,32}$/', $k)) {
                throw new verdon_exception("verdon: bad field name $k");
            }
            $line .= "\t" . $k . '=' . self::escape((string) $v);
        }
        $line .= "\n";
        if (strlen($line) > self::MAX_LINE || strpos($line, "\0") !== false) {
            self::wipe($line);
            throw new verdon_exception('verdon: request too long or with a NUL byte');
        }
        $this->write($line);
        self::wipe($line);
        $this->deadline = microtime(true) + $this->timeout;
        do {
            $a = $this->read_answer();
        } while ($a->verb === 'ROW' && $a->id === $id);
        if ($a->id !== $id) {
            throw new verdon_exception('verdon: an answer to another request');
        }
        return $a;
    }

    private function write(string $data): void
    {
        $left = $data;
        while ($left !== '') {
            $n = @fwrite($this->sock, $left);
            if ($n === false || $n === 0) {
                throw new verdon_exception('verdon: write failed');
            }
            $left = (string) substr($left, $n);
        }
    }

    private function read_answer(): verdon_answer
    {
        $line = '';
        while (substr($line, -1) !== "\n") {
            $left = $this->deadline - microtime(true);
            if ($left <= 0) {
                throw new verdon_exception('verdon: no answer in time');
            }
            stream_set_timeout($this->sock, (int) $left, (int) (($left - (int) $left) * 1000000));
            $chunk = fgets($this->sock, self::MAX_LINE + 1 - strlen($line));
            if ($chunk === false) {
                $meta = stream_get_meta_data($this->sock);
                throw new verdon_exception($meta['timed_out'] ? 'verdon: no answer in time'
                    : 'verdon: the daemon closed the connection');
            }
            $line .= $chunk;
            if (strlen($line) >= self::MAX_LINE && substr($line, -1) !== "\n") {
                throw new verdon_exception('verdon: answer line too long');
            }
        }
        $parts = explode("\t", substr($line, 0, -1));
        self::wipe($line);
        if (count($parts) < 2 || count($parts) > self::MAX_FIELDS + 2
            || !preg_match('/^[A-Z_]{1,24}$/', $parts[0]) || !preg_match('/^[A-Za-z0-9._-]{1,32}$/', $parts[1])) {
            throw new verdon_exception('verdon: malformed answer');
        }
        $fields = [];
        foreach (array_slice($parts, 2) as $p) {
            $eq = strpos($p, '=');
            if ($eq === false) {
                throw new verdon_exception('verdon: malformed field in an answer');
            }
            $fields[substr($p, 0, $eq)] = self::unescape(substr($p, $eq + 1));
        }
        return new verdon_answer($parts[0], $parts[1], $fields);
    }
}
