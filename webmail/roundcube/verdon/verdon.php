<?php

/**
 * verdon for Roundcube: two-step login (password, then the one-time code) against verdon's auth
 * socket, the password swapped for a session token that Roundcube then uses as its IMAP and SMTP
 * password, LOGOUT of the token when the session ends, "Votre session a expiré" when verdon no
 * longer accepts it, and (when configured) trusted browsers that skip the code.
 *
 * Configuration: config.inc.php.dist. Documentation: docs/roundcube.md in verdon's sources.
 */

require_once __DIR__ . '/lib/verdon_client.php';

class verdon extends rcube_plugin
{
    /** Longest and shortest time a password may wait for its code, in seconds. */
    const CODE_TTL_MAX = 600;
    const CODE_TTL_MIN = 30;
    const TRIES_MAX    = 10;
    const DAYS_MAX     = 90;

    private $rc;
    /** The pending login taken from the session before Roundcube empties it (step 2). */
    private $step2;
    /** A token verdon handed out during this request, for LOGOUT if Roundcube's login fails. */
    private $issued;
    /** The first-login page's reason and self-service link. */
    private $notice;

    public function init()
    {
        $this->rc = rcmail::get_instance();
        // config.inc.php here, or else verdon.inc.php in Roundcube's config directory; every key
        // has its default in the code (config.inc.php.dist lists them).
        $this->load_config();
        $this->add_texts('localization/');

        $this->add_hook('startup', [$this, 'startup']);
        $this->add_hook('authenticate', [$this, 'authenticate']);
        $this->add_hook('login_after', [$this, 'login_after']);
        $this->add_hook('login_failed', [$this, 'login_failed']);
        $this->add_hook('session_destroy', [$this, 'session_destroy']);
        $this->add_hook('unauthenticated', [$this, 'unauthenticated']);
        $this->add_hook('password_change', [$this, 'password_change']);
        $this->add_hook('template_object_plugin.body', [$this, 'password_form']);
    }

    // --- configuration -------------------------------------------------------------------

    private function cfg_int(string $key, int $default, int $min, int $max): int
    {
        $v = (int) $this->rc->config->get($key, $default);
        return max($min, min($max, $v));
    }

    private function code_ttl(): int
    {
        return $this->cfg_int('verdon_code_ttl', 300, self::CODE_TTL_MIN, self::CODE_TTL_MAX);
    }

    private function trusted_days(): int
    {
        return $this->cfg_int('verdon_trusted_browser_days', 0, 0, self::DAYS_MAX);
    }

    public function client(): verdon_client
    {
        return new verdon_client((string) $this->rc->config->get('verdon_socket', '/run/verdon/auth.sock'),
            (float) $this->rc->config->get('verdon_timeout', 5));
    }

    /** One request on a fresh connection; null when the daemon cannot be reached. */
    public function ask(string $verb, array $fields): ?verdon_answer
    {
        try {
            $c = $this->client();
            $a = $c->request($verb, $fields);
            $c->close();
            return $a;
        }
        catch (verdon_exception $e) {
            rcube::raise_error(['code' => 500, 'file' => __FILE__, 'line' => __LINE__,
                'message' => $e->getMessage()], true, false);
            return null;
        }
    }

    private function service(): string
    {
        return (string) $this->rc->config->get('verdon_service', 'webmail');
    }

    // --- hooks ---------------------------------------------------------------------------

    public function startup($args)
    {
        if ($args['task'] == 'login') {
            if ($args['action'] == 'verdon-code') {
                $this->show_code_page();
            }
            if ($args['action'] == 'verdon-cancel') {
                $this->drop_pending();
                $this->rc->output->redirect(['_task' => 'login'], 0, true);
            }
            if ($args['action'] == 'login' && isset($_POST['_verdon_code'])) {
                // Roundcube empties the session before `authenticate`: keep the pending login.
                $this->step2 = $_SESSION['verdon_pending'] ?? [];
            }
            return $args;
        }
        if (!empty($_SESSION['user_id']) && !empty($_SESSION['verdon']) && $args['task'] != 'logout'
            && $this->rc->config->get('verdon_check_session', true)) {
            $this->check_session();
        }
        return $args;
    }

    public function authenticate($args)
    {
        if ($this->step2 !== null) {
            return $this->authenticate_code($args);
        }
        if (!$args['valid'] || $args['user'] === '' || $args['pass'] === '') {
            return $args; // Roundcube's own answers (invalid request, empty fields)
        }
        $this->drop_pending();
        $fields = [
            'login'    => $args['user'],
            'password' => $args['pass'],
            'service'  => $this->service(),
            'address'  => rcube_utils::remote_ip(),
            'token'    => '1',
        ];
        $device = $this->device_cookie();
        if ($device !== null) {
            $fields['device'] = $device;
        }
        $a = $this->ask('AUTH', $fields);
        verdon_client::wipe($fields['password']);
        verdon_client::wipe($device);
        $reason = $a ? $a->reason() : 'tempfail';
        if ($a && $a->ok()) {
            return $this->accept($args, $a);
        }
        if ($reason == 'otp_required') {
            $_SESSION['verdon_pending'] = [
                'login' => $args['user'],
                'pass'  => $this->rc->encrypt($args['pass']),
                'since' => time(),
                'tries' => 0,
            ];
            $this->rc->output->redirect(['_task' => 'login', '_action' => 'verdon-code'], 0, true);
        }
        if ($reason == 'password_change_required' || $reason == 'otp_enrollment_required') {
            $this->show_notice_page($reason);
        }
        return $this->refuse($args, $a);
    }

    /** Step 2: the code typed on the code page, with the password kept since step 1. */
    private function authenticate_code($args)
    {
        $p = $this->step2;
        $this->step2 = null;
        if (empty($p['login']) || time() - (int) $p['since'] > $this->code_ttl()) {
            return $this->abort($args, $this->gettext('codeexpired'));
        }
        $args['user'] = $p['login'];
        if (!$args['valid']) {
            return $args;
        }
        $code = trim(rcube_utils::get_input_string('_verdon_code', rcube_utils::INPUT_POST));
        $code = preg_replace('/\s+/', '', $code);
        $trust = $this->trusted_days() > 0 && !empty($_POST['_verdon_trust']);
        $pass = $this->rc->decrypt($p['pass']);
        $a = null;
        if (preg_match('/^[0-9]{6,8}$|^[A-Za-z0-9-]{10,11}$/', $code)) {
            $a = $this->ask('AUTH', [
                'login'        => $p['login'],
                'password'     => $pass,
                'otp'          => $code,
                'service'      => $this->service(),
                'address'      => rcube_utils::remote_ip(),
                'token'        => '1',
                'trust'        => $trust ? '1' : null,
                'device_label' => $trust ? $this->browser_label() : null,
            ]);
            $reason = $a ? $a->reason() : 'tempfail';
        }
        else {
            $reason = 'invalid'; // not a code: counted as a wrong one, verdon is not asked
        }
        verdon_client::wipe($pass);
        verdon_client::wipe($code);
        if ($a && $a->ok()) {
            if ($trust && $a->get('device') !== '') {
                $this->set_device_cookie($a->get('device'), (int) $a->get('device_expires'));
            }
            return $this->accept($args, $a);
        }
        if ($reason == 'invalid' || $reason == 'tempfail') {
            $p['tries'] = (int) $p['tries'] + ($reason == 'invalid' ? 1 : 0);
            if ($p['tries'] < $this->cfg_int('verdon_code_tries', 3, 1, self::TRIES_MAX)) {
                $_SESSION['verdon_pending'] = $p;
                $_SESSION['verdon_notice'] = $reason == 'invalid' ? 'codeinvalid' : 'tempfail';
                $this->rc->output->redirect(['_task' => 'login', '_action' => 'verdon-code'], 0, true);
            }
            return $this->abort($args, $this->gettext('codetries'));
        }
        return $this->refuse($args, $a);
    }

    /** verdon said OK: Roundcube logs in to IMAP with the identifiant and the token. */
    private function accept($args, verdon_answer $a)
    {
        $token = $a->get('token');
        if ($token === '') {
            // A service policy that hands out no token: nothing can log in to IMAP for this person.
            rcube::raise_error(['code' => 500, 'file' => __FILE__, 'line' => __LINE__,
                'message' => 'verdon: AUTH succeeded without a token (issue_tokens off for ' . $this->service() . '?)'],
                true, false);
            $a->wipe();
            return $this->abort($args, $this->gettext('tempfail'));
        }
        $args['user'] = $a->get('identifiant', $args['user']);
        $args['pass'] = $token;
        $this->issued = $token;
        $a->wipe();
        return $args;
    }

    private function refuse($args, ?verdon_answer $a)
    {
        $reason = $a ? $a->reason() : 'tempfail';
        if ($reason == 'locked') {
            $wait = (int) $a->get('wait');
            $text = $wait > 0 ? $this->gettext(['name' => 'lockedwait', 'vars' => ['wait' => $this->duration($wait)]])
                : $this->gettext('lockedadmin');
            return $this->abort($args, $text);
        }
        $known = ['invalid', 'disabled', 'tempfail', 'password_change_required', 'otp_enrollment_required'];
        return $this->abort($args, $this->gettext(in_array($reason, $known) ? $reason : 'invalid'));
    }

    private function abort($args, string $text)
    {
        $args['abort'] = true;
        $args['error'] = $text; // Roundcube shows a text that is not a label as it is
        return $args;
    }

    public function login_after($args)
    {
        if ($this->issued !== null) {
            $_SESSION['verdon'] = 1; // the session's password is a verdon token
            $this->issued = null;
        }
        return $args;
    }

    public function login_failed($args)
    {
        // Roundcube could not use the token (IMAP down…): it must not outlive this attempt.
        if ($this->issued !== null) {
            $this->ask('LOGOUT', ['token' => $this->issued]);
            verdon_client::wipe($this->issued);
        }
        return $args;
    }

    public function session_destroy($args)
    {
        if (!empty($_SESSION['verdon']) && !empty($_SESSION['password'])) {
            $token = $this->rc->decrypt($_SESSION['password']);
            if (is_string($token) && $token !== '') {
                $this->ask('LOGOUT', ['token' => $token]);
            }
            verdon_client::wipe($token);
        }
        $this->drop_pending();
        return $args;
    }

    public function unauthenticated($args)
    {
        if (!empty($_SESSION['verdon_notice'])) {
            $notice = $_SESSION['verdon_notice'];
            $this->rc->session->remove('verdon_notice');
            $this->rc->output->show_message($this->gettext($notice), 'warning', null, true, 20000);
        }
        return $args;
    }

    // --- the token no longer works: back to the login form --------------------------------

    private function check_session()
    {
        if ($this->rc->storage_connect()) {
            return;
        }
        $storage = $this->rc->get_storage();
        $code = isset($storage->conn) ? $storage->conn->resultcode : null;
        if ($code !== 'AUTHENTICATIONFAILED') {
            return; // IMAP down or busy: Roundcube's own storage error, the session stays
        }
        $notice = !empty($_SESSION['verdon_password_changed']) ? 'passwordchanged' : 'sessionexpired';
        $this->rc->kill_session();
        $_SESSION['verdon_notice'] = $notice;
        $url = $this->rc->url(['_task' => 'login'], false, false, true);
        if ($this->rc->output->ajax_call || $this->rc->output->get_env('framed')) {
            $this->rc->output->command('session_error', $url);
            $this->rc->output->send('iframe');
        }
        $this->rc->output->redirect(['_task' => 'login'], 0, true);
    }

    // --- the pending login ------------------------------------------------------------------

    private function pending(): ?array
    {
        $p = $_SESSION['verdon_pending'] ?? null;
        if (!is_array($p) || empty($p['login'])) {
            return null;
        }
        if (time() - (int) $p['since'] > $this->code_ttl()) {
            $this->drop_pending();
            return null;
        }
        return $p;
    }

    private function drop_pending()
    {
        if (isset($_SESSION['verdon_pending'])) {
            $this->rc->session->remove('verdon_pending');
            unset($_SESSION['verdon_pending']);
        }
    }

    // --- pages ----------------------------------------------------------------------------

    private function show_code_page()
    {
        $p = $this->pending();
        if ($p === null) {
            $_SESSION['verdon_notice'] = 'codeexpired';
            $this->rc->output->redirect(['_task' => 'login'], 0, true);
        }
        if (!empty($_SESSION['verdon_notice'])) {
            $notice = $_SESSION['verdon_notice'];
            $this->rc->session->remove('verdon_notice');
            $this->rc->output->show_message($this->gettext($notice), 'warning', null, true, 20000);
        }
        $this->include_script('verdon.js');
        $this->rc->output->set_pagetitle($this->gettext('codetitle'));
        $this->rc->output->add_handlers(['verdonpage' => [$this, 'code_form']]);
        $this->rc->output->send('verdon.page');
    }

    public function code_form($attrib)
    {
        $days = $this->trusted_days();
        $input = $this->code_input(['name' => '_verdon_code', 'id' => 'verdon-code', 'class' => 'form-control',
            'required' => 'required', 'autofocus' => 'autofocus', 'aria-describedby' => 'verdon-code-help',
            'data-icon' => 'pass']);
        $rows = html::tag('tr', null,
            html::tag('td', ['class' => 'title'], html::label('verdon-code', rcube::Q($this->gettext('code'))))
            . html::tag('td', ['class' => 'input'], $input));
        $trust = '';
        if ($days > 0) {
            // Outside the table: Elastic turns the table's rows into input groups.
            $box = new html_checkbox(['name' => '_verdon_trust', 'id' => 'verdon-trust', 'value' => '1']);
            // The box inside its label: Elastic makes it a switch with that label.
            $trust = html::p(['class' => 'verdon-trust'], html::label(['for' => 'verdon-trust'], $box->show() . ' '
                . rcube::Q($this->gettext(['name' => 'trustbrowser', 'vars' => ['days' => $days]]))));
        }
        $hidden = new html_hiddenfield();
        $hidden->add(['name' => '_task', 'value' => 'login']);
        $hidden->add(['name' => '_action', 'value' => 'login']);
        $hidden->add(['name' => '_token', 'value' => $this->rc->get_request_token()]);
        $content = html::tag('h2', ['id' => 'verdon-title'], rcube::Q($this->gettext('codetitle')))
            . html::p(['id' => 'verdon-code-help', 'class' => 'hint'], rcube::Q($this->gettext('codehelp')))
            . $hidden->show()
            . html::tag('table', null, html::tag('tbody', null, $rows))
            . $trust
            . html::p(['class' => 'formbuttons'], html::tag('button',
                ['type' => 'submit', 'id' => 'verdon-submit',
                    'class' => 'button mainaction submit btn-lg text-uppercase w-100'],
                rcube::Q($this->gettext('verify'))))
            . html::p(['class' => 'verdon-links'],
                html::a(['href' => '#', 'id' => 'verdon-recovery'], rcube::Q($this->gettext('userecovery')))
                . ' · ' . html::a(['href' => './?_task=login&_action=verdon-cancel', 'id' => 'verdon-cancel'],
                    rcube::Q($this->gettext('cancel'))));
        return $this->rc->output->form_tag(['id' => 'login-form', 'name' => 'verdon-code-form',
            'method' => 'post', 'class' => 'propform', 'action' => './?_task=login&_action=login'], $content);
    }

    /** A code field: the phone's numeric keyboard, the one-time-code autofill (html_inputfield drops inputmode). */
    private function code_input(array $attrib): string
    {
        $attrib += ['type' => 'text', 'autocomplete' => 'one-time-code', 'inputmode' => 'numeric',
            'autocapitalize' => 'none', 'spellcheck' => 'false', 'maxlength' => '16', 'size' => '12'];
        $out = '<input';
        foreach ($attrib as $k => $v) {
            $out .= ' ' . $k . '="' . rcube::Q((string) $v) . '"';
        }
        return $out . ' />';
    }

    /** First login: the person must go to the self-service page; Roundcube cannot help. */
    private function show_notice_page(string $reason)
    {
        $this->rc->kill_session();
        $url = (string) $this->rc->config->get('verdon_selfservice_url', '');
        $this->notice = [$reason, $url];
        $this->rc->output->set_pagetitle($this->gettext('firstlogintitle'));
        $this->rc->output->add_handlers(['verdonpage' => [$this, 'notice_box']]);
        $this->rc->output->send('verdon.page');
    }

    public function notice_box($attrib)
    {
        [$reason, $url] = $this->notice;
        $out = html::tag('h2', ['id' => 'verdon-title'], rcube::Q($this->gettext('firstlogintitle')))
            . html::p(['id' => 'verdon-notice-text'], rcube::Q($this->gettext($reason)));
        if ($url !== '') {
            $out .= html::p(['class' => 'formbuttons'], html::a(['href' => $url, 'id' => 'verdon-selfservice',
                'class' => 'button mainaction'], rcube::Q($this->gettext('gotoselfservice'))));
        }
        $out .= html::p(['class' => 'verdon-links'], html::a(['href' => './?_task=login', 'id' => 'verdon-back'],
            rcube::Q($this->gettext('backtologin'))));
        return html::div(['id' => 'verdon-notice', 'class' => 'propform'], $out);
    }

    // --- password change through the password plugin ---------------------------------------

    /** A code field in the password plugin's form: verdon's PASSWD needs the current code. */
    public function password_form($args)
    {
        if ($this->rc->task == 'settings' && strpos($this->rc->action, 'plugin.password') === 0
            && strpos($args['content'], 'id="confpasswd"') !== false) {
            $input = $this->code_input(['name' => '_verdon_code', 'id' => 'verdon-passwd-code',
                'class' => 'form-control']);
            $row = html::tag('tr', null, html::tag('td', ['class' => 'title'],
                html::label('verdon-passwd-code', rcube::Q($this->gettext('code'))))
                . html::tag('td', null, $input));
            $args['content'] = preg_replace('/(<input[^>]*id="confpasswd"[^>]*>\s*<\/td>\s*<\/tr>)/', '$1' . $row,
                $args['content'], 1);
        }
        return $args;
    }

    public function password_change($args)
    {
        // verdon revoked every token of the person, this session's too: it ends at the next page.
        $_SESSION['verdon_password_changed'] = 1;
        if (!empty($_SESSION['verdon'])) {
            $args['new_pass'] = $this->rc->decrypt($_SESSION['password']);
        }
        return $args;
    }

    // --- trusted browser ------------------------------------------------------------------

    private function cookie_name(): string
    {
        return (string) $this->rc->config->get('verdon_device_cookie', 'verdon_device');
    }

    private function device_cookie(): ?string
    {
        if ($this->trusted_days() <= 0) {
            return null;
        }
        $v = $_COOKIE[$this->cookie_name()] ?? '';
        return is_string($v) && preg_match('/^[A-Za-z0-9._~+\/=-]{16,256}$/', $v) ? $v : null;
    }

    private function set_device_cookie(string $secret, int $expires)
    {
        $max = time() + $this->trusted_days() * 86400;
        setcookie($this->cookie_name(), $secret, [
            'expires'  => $expires > 0 ? min($expires, $max) : $max,
            'path'     => ini_get('session.cookie_path') ?: '/', // Roundcube's own path
            'secure'   => rcube_utils::https_check(),
            'httponly' => true,
            'samesite' => 'Strict',
        ]);
    }

    /** "Firefox sur Linux": what the self-service page and verdonctl show for this browser. */
    private function browser_label(): string
    {
        $ua = (string) ($_SERVER['HTTP_USER_AGENT'] ?? '');
        $browser = 'Navigateur';
        foreach (['Edg/' => 'Edge', 'Firefox/' => 'Firefox', 'Chrome/' => 'Chrome', 'Safari/' => 'Safari'] as $k => $v) {
            if (strpos($ua, $k) !== false) {
                $browser = $v;
                break;
            }
        }
        foreach (['Android' => 'Android', 'iPhone' => 'iPhone', 'iPad' => 'iPad', 'Windows' => 'Windows',
            'Mac OS' => 'macOS', 'Linux' => 'Linux'] as $k => $v) {
            if (strpos($ua, $k) !== false) {
                return "$browser ($v)";
            }
        }
        return $browser;
    }

    private function duration(int $s): string
    {
        if ($s < 120) {
            return $this->gettext(['name' => 'seconds', 'vars' => ['n' => $s]]);
        }
        return $this->gettext(['name' => 'minutes', 'vars' => ['n' => (int) ceil($s / 60)]]);
    }
}
