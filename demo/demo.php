<?php

/**
 * make demo: the connector's flows against the embedded Trading Grid sandbox, told in
 * the words a site builder uses. The sandbox runs with --simulate-partners so the
 * network side answers on its own.
 */

declare(strict_types=1);

require __DIR__ . '/../tests/php/Sandbox.php';
// Plain PHP from the module: how a failed Lens transaction reads as a trading issue.
require __DIR__ . '/../drupal_module/trading_grid/src/Flow/TradingIssue/FailedTransaction.php';

use Drupal\trading_grid\Flow\TradingIssue\FailedTransaction;
use TradingGrid\Tests\Sandbox;

function say(string $text): void
{
    echo wordwrap($text, 100), "\n";
}

function step(string $title): void
{
    echo "\n== $title ==\n";
}

/**
 * Waits until the event feed holds an event of $type not shown before, and returns it.
 * Events read while waiting are remembered, so a later wait finds them too.
 */
function waitFor(\TradingGrid\Client $client, string $type, ?string &$cursor, float $seconds = 5.0): ?array
{
    static $seen = [];
    $deadline = microtime(true) + $seconds;
    do {
        foreach ($seen as $i => $event) {
            if ($event['type'] === $type) {
                unset($seen[$i]);
                return $event;
            }
        }
        $page = $client->events($cursor, 100);
        foreach ($page['events'] as $event) {
            $cursor = (string) $event['sequence'];
            $seen[] = $event;
        }
        if (!$page['events']) {
            usleep(150000);
        }
    } while (microtime(true) < $deadline);
    return null;
}

$sandbox = Sandbox::start(['--simulate-partners']);
try {
    say("Trading Grid sandbox started at {$sandbox->baseUrl} (extension " . TradingGrid\version() . ').');
    $client = $sandbox->client();
    $ping = $client->ping();
    say(sprintf('Connection test: signed in to tenant %s and saw %d communities in %.1f ms.',
        $ping['tenant'], $ping['communities'], $ping['latencyMs']));
    $cursor = null;

    step('Flow 1 of 8: partner portal and membership');
    $partner = $client->upsertPartner([
        'externalId' => 'drupal-user-42', 'companyName' => 'Acme Freight GmbH', 'partnerType' => 'carrier',
        'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'contactName' => 'Ada Ops',
        'tradingAddress' => 'ZZ:ACMEFREIGHT', 'communities' => ['logistics-eu'], 'revision' => 1,
    ]);
    say("Acme Freight GmbH registered on the portal (Drupal user 42) and now exists in Trading Grid as partner {$partner['partnerId']}.");
    $m = $client->memberships('drupal-user-42')['items'][0];
    say("It was put in the community '{$m['communityId']}'; its membership is {$m['status']} until the community manager approves.");
    $request = $client->requestAccess(['externalId' => 'drupal-user-42', 'communityId' => 'logistics-eu',
        'reason' => 'Carrier for EU road freight']);
    say("The partner asked for access (request {$request['requestId']}, status {$request['status']}).");
    $changed = waitFor($client, 'access_request.changed', $cursor);
    say($changed ? "The network answered: access {$changed['data']['status']} (\"{$changed['data']['note']}\")."
        : 'No answer from the network yet.');
    $m = $client->memberships('drupal-user-42')['items'][0];
    say("Membership is now {$m['status']}: the portal gives the user the partner role and shows the next step.");
    $company = $partner['partnerId'];
    $login = 'ada.ops@acme.example';
    $networkUser = $client->createCompanyUser($company, [
        'loginId' => $login, 'firstName' => 'Ada', 'lastName' => 'Ops', 'type' => 'Web',
        'contactInformation' => ['email' => 'ops@acme.example', 'phoneNumber' => '+49 40 5551212'],
        'address' => ['addressLine1' => '1 Dock Road', 'city' => 'Hamburg', 'postalCode' => '20457', 'countryCode' => 'DE'],
        'preferredLanguage' => 'en', 'preferredTimezone' => 'Europe/Berlin',
    ], 'drupal-user-42:first-network-user');
    say("Acme's contact Ada Ops now has her own login on the network, $login, as a user of Acme's company $company. "
        . "Trading Grid gave her the user id {$networkUser['uniqueId']}; the portal keeps that id, because a login id can change.");
    $roles = $client->addCompanyUserRoles($company, $login, ['Partner Admin']);
    say('She was given the role ' . implode(', ', array_column($roles['roles'], 'roleName'))
        . ", so she can look after Acme's own people on the network.");
    $found = $client->companyUser($company, $networkUser['uniqueId']);
    say("Looked up again by the stored id, she is {$found['firstName']} {$found['lastName']} ({$found['loginId']}).");
    $stale = $client->upsertPartner(['externalId' => 'drupal-user-42', 'companyName' => 'Acme (stale edit)', 'partnerType' => 'carrier',
        'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'revision' => 0]);
    say(sprintf('A late, older revision of the profile was not applied (%s); Trading Grid keeps "%s".',
        $stale['reason'] ?? 'applied', $stale['companyName']));

    step('Flow 2 of 8: trading issues, both ways');
    $issue = $client->createIssue([
        'externalId' => 'drupal-node-9', 'type' => 'shipment_discrepancy', 'title' => '12 pallets short',
        'description' => 'The delivery note says 40 pallets; 28 arrived at dock 4.', 'partnerExternalId' => 'drupal-user-42',
        'priority' => 'high', 'references' => ['shipment' => 'SHP-1001', 'purchaseOrder' => 'PO-4711'],
    ]);
    say("Shipment discrepancy {$issue['issueId']} raised on the portal with Acme Freight (status {$issue['status']}).");
    $comment = waitFor($client, 'issue.comment_added', $cursor);
    if ($comment) {
        say("The partner replied on the network: \"{$comment['data']['comment']['body']}\"");
    }
    $client->commentIssue($issue['issueId'], ['author' => 'Logistics desk', 'body' => 'Photos of the dock attached.']);
    $resolved = $client->setIssueStatus($issue['issueId'], 'resolved', 'Missing pallets delivered on 26 Nov.');
    say("The logistics team answered and resolved it: \"{$resolved['resolution']}\".");
    try {
        $client->setIssueStatus($issue['issueId'], 'awaiting_partner');
    } catch (TradingGrid\ApiException $e) {
        say("Trading Grid refuses an illegal move (HTTP {$e->getStatus()}): {$e->getMessage()}");
    }

    // Trading exceptions nobody raised yet: Lens, the network's record of every document traded.
    $deadline = microtime(true) + 5.0;
    do {
        $exceptions = $client->transactionExceptions(gmdate('Y-m-d\TH:i:s\Z', time() - 3600));
    } while ($exceptions['total'] === 0 && microtime(true) < $deadline && usleep(200000) === null);
    say(sprintf('Lens shows %d transaction(s) that need a person since the last hour; cron turns each into a trading issue once:', $exceptions['total']));
    foreach ($exceptions['transactions'] as $t) {
        $failed = FailedTransaction::fromLens($t);
        $who = $client->partnerDirectory(['tradingAddress' => $t['senderaddress']])['partners'][0]['partnerCompanyName'] ?? 'no known partner';
        say(sprintf('  - EDI %s from %s (%s): "%s" (%s, %s priority), error %s.',
            $t['editype'], $t['senderaddress'], $who, $failed?->title(), $failed?->issueType(), $failed?->priority(), $t['errorcode']));
    }

    step('Flow 3 of 8: controlled documents');
    $doc = ['documentId' => 'sop-loading', 'title' => 'Loading SOP', 'language' => 'en',
        'translations' => [['language' => 'de', 'title' => 'Verladeanweisung']],
        'audiences' => ['communities' => ['logistics-eu'], 'partnerTypes' => ['carrier']],
        'sha256' => hash('sha256', 'v1'), 'approved' => true, 'effectiveDate' => '2026-12-01'];
    $client->publishDocument($doc + ['version' => 1]);
    say('Version 1 of the Loading SOP (English, with a German translation) was published to carriers in Logistics EU.');
    $v2 = $client->publishDocument(['sha256' => hash('sha256', 'v2')] + $doc + ['version' => 2]);
    say("Version 2 is published and supersedes version {$v2['supersedes']}.");
    try {
        $client->publishDocument(['sha256' => hash('sha256', 'v1-edited')] + $doc + ['version' => 1]);
    } catch (TradingGrid\Exception $e) {
        say("Changing the already published version 1 is refused: {$e->getMessage()}");
    }
    try {
        $client->publishDocument(['approved' => false] + $doc + ['version' => 3]);
    } catch (TradingGrid\ValidationException $e) {
        say("An unapproved version never leaves the portal: {$e->getMessage()}");
    }
    $accepted = waitFor($client, 'document.accepted', $cursor);
    if ($accepted) {
        say("A partner accepted version {$accepted['data']['version']} on the network.");
    }
    $client->retractDocument('sop-loading', 'Replaced by the new warehouse manual');
    say('The document was retracted; every version is withdrawn from the partners.');

    step('Flow 4 of 8: onboarding journeys');
    $client->recordOnboardingStep('drupal-user-42', 'company-profile', ['status' => 'completed', 'completedAt' => gmdate('Y-m-d\\TH:i:s\\Z')]);
    say('Acme completed the "company profile" step on the portal; Trading Grid recorded it on the partner.');
    $training = waitFor($client, 'onboarding.training_completed', $cursor, 3.0);
    $ack = waitFor($client, 'onboarding.acknowledged', $cursor, 3.0);
    if ($training) {
        say("The partner completed the training '{$training['data']['course']}' on the network (score {$training['data']['score']}).");
    }
    if ($ack) {
        say("It acknowledged the '{$ack['data']['acknowledgement']}'; the portal marks both steps done and shows the next one.");
    }
    $steps = array_map(static fn (array $s): string => "{$s['stepId']} ({$s['status']})", $client->onboarding('drupal-user-42')['items']);
    say('Steps recorded in Trading Grid: ' . implode(', ', $steps) . '.');

    step('Flow 5 of 8: catalog and product updates');
    $client->upsertCatalogItem(['itemId' => 'sku-1001', 'sku' => '1001', 'title' => 'Euro pallet 1200x800',
        'kind' => 'packaging', 'audiences' => ['partnerTypes' => ['carrier', 'supplier']], 'revision' => 1]);
    say('A packaging specification for the Euro pallet was published to carriers and suppliers.');
    $client->upsertCatalogItem(['itemId' => 'notice-2027-prices', 'sku' => 'PRICE-2027', 'title' => '2027 price list notice',
        'kind' => 'pricing_notice', 'audiences' => ['partnerTypes' => ['distributor']], 'revision' => 1]);
    say('A pricing notice went to distributors only.');

    step('Flow 6 of 8: knowledge from the network');
    $article = $sandbox->admin('POST', '/_sandbox/knowledge', ['kind' => 'resolution', 'title' => 'Short deliveries at dock 4',
        'body' => 'Count pallets against the ASN before signing the CMR.', 'topic' => 'receiving', 'region' => 'EU',
        'partnerTypes' => ['carrier']]);
    $published = waitFor($client, 'knowledge.published', $cursor);
    if ($published) {
        $whole = $client->getKnowledge($published['data']['articleId']);
        say("The network published the resolution '{$whole['title']}' (topic {$whole['topic']}, region {$whole['region']}, for "
            . implode(', ', $whole['partnerTypes']) . '); the portal fetches it whole and makes it searchable content.');
    }

    step('Flow 7 of 8: combined reporting');
    $client->sendPortalMetrics(['period' => date('Y-m-d'), 'figures' => ['contentViews' => 128, 'onboardingCompleted' => 1, 'acknowledgements' => 1]]);
    say('The portal sent its own figures for today: 128 content views, 1 onboarding completed, 1 acknowledgement.');
    $metrics = $client->metrics();
    say(sprintf('Network figures computed by Trading Grid: issues raised %d (%d resolved, mean %s h to resolve), response rate %s.',
        $metrics['issues']['total'], $metrics['issues']['resolved'],
        $metrics['issues']['meanResolutionHours'] === null ? 'n/a' : number_format((float) $metrics['issues']['meanResolutionHours'], 2),
        $metrics['responseRate'] === null ? 'n/a' : round($metrics['responseRate'] * 100) . '%'));
    foreach ($metrics['participation'] as $p) {
        say("  community {$p['communityId']}: {$p['members']} members, {$p['active']} active");
    }

    step('Flow 8 of 8: notifications both ways, pushed by webhook');
    $secret = 'whsec_demo_' . bin2hex(random_bytes(8));
    $received = (string) tempnam(sys_get_temp_dir(), 'tgdemo');
    $port = 20000 + random_int(0, 20000);
    $receiver = proc_open([PHP_BINARY, '-d', 'extension=' . (getenv('TG_EXTENSION') ?: dirname(__DIR__) . '/target/debug/libtrading_grid.so'), '-S', "127.0.0.1:$port",
        __DIR__ . '/../tests/php/fixtures/webhook-receiver.php'], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
        $pipes, null, ['TG_WEBHOOK_SECRET' => $secret, 'TG_RECEIVED' => $received, 'PATH' => (string) getenv('PATH')]);
    try {
        usleep(300000);
        $client->subscribeWebhook("http://127.0.0.1:$port/", $secret, ['notification.posted', 'notification.partner_response']);
        $client->notify(['communityId' => 'logistics-eu', 'kind' => 'task', 'title' => 'Confirm winter schedule',
            'body' => 'Please confirm your December capacity.', 'dueDate' => '2026-12-05']);
        say('The portal posted a task to the Logistics EU community.');
        $client->createIssue(['externalId' => 'drupal-node-10', 'type' => 'invoice_dispute', 'title' => 'Invoice 8812 charged twice',
            'description' => 'Fuel surcharge appears twice.', 'partnerExternalId' => 'drupal-user-42', 'priority' => 'normal',
            'references' => ['invoice' => 'INV-8812']]);
        $deadline = microtime(true) + 5;
        $lines = [];
        while (microtime(true) < $deadline && count($lines) < 2) {
            $lines = array_values(array_filter(explode("\n", (string) file_get_contents($received))));
            usleep(100000);
        }
        foreach ($lines as $line) {
            $e = json_decode($line, true);
            say(isset($e['refused']) ? "A delivery was refused: {$e['refused']}"
                : "Webhook delivery arrived, signature verified by the extension: {$e['type']} ({$e['id']}).");
        }
        if (!$lines) {
            say('No webhook delivery arrived yet; the portal would pick the events up from the feed on cron.');
        }
    } finally {
        proc_terminate($receiver);
        proc_close($receiver);
        @unlink($received);
    }

    step('Delivery: many changes at once, through faults');
    $ops = [];
    for ($i = 1; $i <= 200; $i++) {
        $ops[] = ['id' => "outbox-$i", 'op' => 'partner.upsert', 'payload' => ['externalId' => "drupal-user-" . (1000 + $i),
            'companyName' => "Supplier $i", 'partnerType' => 'supplier', 'country' => 'NL',
            'contactEmail' => "buyer$i@supplier.example", 'revision' => 1]];
    }
    $sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0.1, 'rateLimitRate' => 0.05, 'retryAfter' => 0.05, 'writesOnly' => true]);
    $started = microtime(true);
    $results = $client->sendBatch($ops);
    $ok = count(array_filter($results, static fn (array $r): bool => $r['ok']));
    $stats = $sandbox->stats();
    say(sprintf('%d of %d partner updates delivered in %.2f s while the sandbox failed %d requests and rate-limited %d; '
        . 'each was applied exactly once (%d applied).', $ok, count($ops), microtime(true) - $started,
        $stats['faults']['errors'], $stats['faults']['rateLimited'], $stats['applied']['partner.upsert'] - 1));

    step('What the network sent back (the event feed)');
    $all = [];
    $c = null;
    do {
        $page = $client->events($c, 500);
        foreach ($page['events'] as $e) {
            $all[$e['type']] = ($all[$e['type']] ?? 0) + 1;
        }
        $c = $page['nextCursor'];
    } while ($page['hasMore']);
    ksort($all);
    foreach ($all as $type => $n) {
        say(sprintf('  %-36s %d', $type, $n));
    }
    say("\nOpen {$sandbox->baseUrl}/ in a browser while the sandbox runs to see its state.");
} finally {
    $sandbox->stop();
}
