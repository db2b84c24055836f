//! Diesel's view of the tables; kept by hand in step with both migration folders.

diesel::table! {
    queues (slug) {
        slug -> Text,
        name -> Text,
        description -> Text,
        notify_emails -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        position -> Integer,
        name -> Text,
        category -> Nullable<Text>,
        priority -> Nullable<Text>,
        source -> Nullable<Text>,
        location -> Nullable<Text>,
        queue_slug -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        sender_domain -> Nullable<Text>,
    }
}

diesel::table! {
    guidance (category) {
        category -> Text,
        body -> Text,
        next_steps -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    case_requests (id) {
        id -> Text,
        reference -> Text,
        receipt_token -> Text,
        source -> Text,
        submitter_kind -> Text,
        applicant_location -> Text,
        household_size -> Nullable<Integer>,
        siv_status -> Text,
        referral_program -> Text,
        claimed_programs -> Text,
        us_tie -> Text,
        urgent_danger -> Bool,
        urgent_medical -> Bool,
        category -> Text,
        category_reason -> Text,
        priority -> Text,
        priority_reason -> Text,
        queue_slug -> Text,
        routing_rule_id -> Nullable<Text>,
        routing_rule_name -> Nullable<Text>,
        status -> Text,
        consent_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        assignee_id -> Nullable<Text>,
        entered_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        is_open -> Bool,
        purged_at -> Nullable<Timestamp>,
        language -> Text,
        partner_id -> Nullable<Text>,
    }
}

diesel::table! {
    status_codes (request_id) {
        request_id -> Text,
        code_hash -> Text,
        code_plain -> Nullable<Text>,
    }
}

diesel::table! {
    partners (id) {
        id -> Text,
        name -> Text,
        daily_quota -> Nullable<Integer>,
        created_at -> Timestamp,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        partner_id -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        scope -> Text,
    }
}

diesel::table! {
    request_personal_data (request_id) {
        request_id -> Text,
        submitter_name -> Nullable<Text>,
        submitter_email -> Nullable<Text>,
        submitter_phone -> Nullable<Text>,
        submitter_organization -> Nullable<Text>,
        applicant_full_name -> Text,
        applicant_date_of_birth -> Nullable<Date>,
        applicant_phone -> Nullable<Text>,
        applicant_whatsapp -> Nullable<Text>,
        applicant_email -> Nullable<Text>,
        siv_case_number -> Nullable<Text>,
        referred_by -> Nullable<Text>,
        description -> Nullable<Text>,
        applicant_date_of_birth_precision -> Nullable<Text>,
        applicant_date_of_birth_calendar -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        request_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        totp_last_step -> Nullable<BigInt>,
        recovery_codes -> Text,
    }
}

diesel::table! {
    queue_members (user_id, queue_slug) {
        user_id -> Text,
        queue_slug -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        pending_mfa -> Bool,
    }
}

diesel::table! {
    setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_notes (id) {
        id -> Text,
        request_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        request_id -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        urgent -> Bool,
        dedup_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        reply_to -> Nullable<Text>,
    }
}

diesel::table! {
    case_messages (id) {
        id -> Text,
        request_id -> Text,
        direction -> Text,
        author -> Text,
        body -> Text,
        language -> Text,
        outbox_id -> Nullable<Text>,
        message_id -> Nullable<Text>,
        thread_token -> Nullable<Text>,
        created_at -> Timestamp,
        seen_by_staff_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    saved_replies (id) {
        id -> Text,
        title -> Text,
        category -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_reply_texts (reply_id, language) {
        reply_id -> Text,
        language -> Text,
        body -> Text,
    }
}

diesel::table! {
    reply_tokens (request_id) {
        request_id -> Text,
        token -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_counts (queue_slug, category, status, priority, assignee_id, stripe) {
        queue_slug -> Text,
        category -> Text,
        status -> Text,
        priority -> Text,
        assignee_id -> Text,
        stripe -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    case_hour_counts (kind, hour, queue_slug, priority, partner_id, stripe) {
        kind -> Text,
        hour -> Timestamp,
        queue_slug -> Text,
        priority -> Text,
        partner_id -> Text,
        stripe -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    escalation_steps (queue_slug, position) {
        queue_slug -> Text,
        position -> Integer,
        target -> Text,
        user_id -> Nullable<Text>,
        wait_minutes -> Integer,
    }
}

diesel::table! {
    duty_slots (id) {
        id -> Text,
        queue_slug -> Text,
        user_id -> Text,
        weekday -> Integer,
        start_minute -> Integer,
        end_minute -> Integer,
        position -> Integer,
    }
}

diesel::table! {
    duty_marks (user_id, queue_slug) {
        user_id -> Text,
        queue_slug -> Text,
        on_duty -> Bool,
        set_at -> Timestamp,
    }
}

diesel::table! {
    escalations (request_id) {
        request_id -> Text,
        queue_slug -> Text,
        state -> Text,
        started_at -> Timestamp,
        pages -> Integer,
        next_page_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    escalation_pages (id) {
        id -> Text,
        request_id -> Text,
        number -> Integer,
        target -> Text,
        user_id -> Nullable<Text>,
        outbox_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        used_by -> Nullable<Text>,
    }
}

diesel::table! {
    sla_warnings (request_id, kind) {
        request_id -> Text,
        kind -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(case_requests -> queues (queue_slug));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(queue_members -> users (user_id));
diesel::joinable!(queue_members -> queues (queue_slug));
diesel::joinable!(case_notes -> case_requests (request_id));
diesel::joinable!(case_notes -> users (author_id));
diesel::joinable!(routing_rules -> queues (queue_slug));
diesel::joinable!(request_personal_data -> case_requests (request_id));
diesel::joinable!(audit_events -> case_requests (request_id));
diesel::joinable!(api_tokens -> partners (partner_id));
diesel::joinable!(status_codes -> case_requests (request_id));
diesel::joinable!(case_requests -> partners (partner_id));
diesel::joinable!(case_messages -> case_requests (request_id));
diesel::joinable!(reply_tokens -> case_requests (request_id));
diesel::joinable!(saved_reply_texts -> saved_replies (reply_id));
diesel::joinable!(escalations -> case_requests (request_id));
diesel::joinable!(escalation_pages -> case_requests (request_id));
diesel::joinable!(sla_warnings -> case_requests (request_id));

diesel::allow_tables_to_appear_in_same_query!(
    queues,
    routing_rules,
    guidance,
    case_requests,
    request_personal_data,
    audit_events,
    users,
    queue_members,
    sessions,
    setup_tokens,
    case_notes,
    dedup_keys,
    duplicate_candidates,
    outbox,
    partners,
    api_tokens,
    status_codes,
    case_counts,
    case_hour_counts,
    case_messages,
    reply_tokens,
    saved_replies,
    saved_reply_texts,
    inbound_mail,
    unreadable_mail,
    case_attachments,
    outbox_bounces,
    escalation_steps,
    duty_slots,
    duty_marks,
    escalations,
    escalation_pages,
    sla_warnings,
    signing_keys,
);

diesel::table! {
    inbound_mail (id) {
        id -> Text,
        ledger_key -> Text,
        origin -> Text,
        outcome -> Text,
        request_id -> Nullable<Text>,
        outbox_id -> Nullable<Text>,
        sender_hash -> Nullable<Text>,
        acknowledged -> Bool,
        received_at -> Timestamp,
    }
}

diesel::table! {
    unreadable_mail (id) {
        id -> Text,
        reason -> Text,
        raw -> Binary,
        size -> BigInt,
        state -> Text,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    case_attachments (id) {
        id -> Text,
        request_id -> Text,
        message_row_id -> Nullable<Text>,
        inbound_id -> Text,
        filename -> Text,
        content_type -> Text,
        declared_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        data -> Nullable<Binary>,
        refused -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_bounces (outbox_id) {
        outbox_id -> Text,
        inbound_id -> Text,
        reason -> Text,
        bounced_at -> Timestamp,
    }
}

diesel::table! {
    /// No primary key in the database (migration 000014: one index fewer to write per key
    /// row); diesel needs one named, and a request files each key once.
    dedup_keys (key, request_id) {
        key -> Text,
        request_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    duplicate_candidates (request_id, candidate_id) {
        request_id -> Text,
        candidate_id -> Text,
        score -> Integer,
        reasons -> Text,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
    }
}

diesel::joinable!(dedup_keys -> case_requests (request_id));

diesel::table! {
    /// How far each IMAP mailbox has been taken in (migration 000028).
    imap_state (account, uid_validity) {
        account -> Text,
        uid_validity -> BigInt,
        last_uid -> BigInt,
        updated_at -> Timestamp,
    }
}
