<?php

/**
 * verdon driver for Roundcube's stock password plugin: the change goes through verdon's PASSWD
 * on the auth socket, with the current password and the one-time code (the code field is added
 * to the plugin's form by the verdon plugin). verdon's refusal reasons are shown in French.
 *
 * Install: a link named verdon.php in the password plugin's drivers/ directory, pointing here,
 * and in Roundcube's config:
 *   $config['password_driver'] = 'verdon';
 *   $config['password_confirm_current'] = true;   // the session holds a token, not the password
 *   $config['password_minimum_length'] = 0;       // verdon's policy decides
 */

require_once __DIR__ . '/../lib/verdon_client.php';

class rcube_verdon_password
{
    /** The session's password is a token: verdon itself checks the current password. */
    public function compare($curpass, $newpass, $type)
    {
        return null;
    }

    public function save($curpass, $passwd, $username)
    {
        $rc = rcmail::get_instance();
        $plugin = $rc->plugins->get_plugin('verdon');
        if (!$plugin) {
            return PASSWORD_ERROR;
        }
        $code = preg_replace('/\s+/', '', (string) rcube_utils::get_input_string('_verdon_code', rcube_utils::INPUT_POST));
        $a = $plugin->ask('PASSWD', [
            'login'    => $username,
            'password' => $curpass,
            'new'      => $passwd,
            'otp'      => $code !== '' ? $code : null,
            'service'  => (string) $rc->config->get('verdon_service', 'webmail'),
            'address'  => rcube_utils::remote_ip(),
        ]);
        verdon_client::wipe($curpass);
        verdon_client::wipe($passwd);
        verdon_client::wipe($code);
        if ($a === null || $a->verb === 'TEMPFAIL') {
            return ['code' => PASSWORD_CONNECT_ERROR, 'message' => $plugin->gettext('tempfail')];
        }
        if ($a->ok()) {
            return PASSWORD_SUCCESS;
        }
        $reason = $a->reason();
        $policy = ['too_short', 'too_long', 'not_utf8', 'dictionary', 'context', 'character_classes', 'reused'];
        if (in_array($reason, $policy)) {
            // verdon's detail= is already French and says how; the label says what.
            $text = $plugin->gettext('pw_' . $reason);
            $detail = $a->get('detail');
            return ['code' => PASSWORD_CONSTRAINT_VIOLATION, 'message' => $detail !== '' ? "$text $detail" : $text];
        }
        if ($reason == 'locked') {
            return ['code' => PASSWORD_ERROR, 'message' => $plugin->gettext('lockedadmin')];
        }
        if ($reason == 'otp_required') {
            return ['code' => PASSWORD_ERROR, 'message' => $plugin->gettext('nocode')];
        }
        return ['code' => PASSWORD_ERROR, 'message' => $plugin->gettext('pw_invalid')];
    }
}
