<?php

/**
 * make demo: the connector's flows against the embedded Trading Grid sandbox, told in
 * the words a site builder uses. The sandbox runs with --simulate-partners so the
 * network side answers on its own.
 */

declare(strict_types=1);

require __DIR__ . '/../tests/php/Sandbox.php';

use TradingGrid\Tests\Sandbox;

function say(string $text): void
{
    echo wordwrap($text, 100), "\n";
}

function step(string $title): void
{
    echo "\n== $title ==\n";
}

/** Waits until the event feed holds an event of $type, and returns it. */
function waitFor(\TradingGrid\Client $client, string $type, ?string &$cursor, float $seconds = 5.0): ?array
{
    $deadline = microtime(true) + $seconds;
    while (microtime(true) < $deadline) {
        $page = $client->events($cursor, 100);
        foreach ($page['events'] as $event) {
            $cursor = (string) $event['sequence'];
            if ($event['type'] === $type) {
                return $event;
            }
        }
        usleep(150000);
    }
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

    step('1. A partner registers on the portal');
    $partner = $client->upsertPartner([
        'externalId' => 'drupal-user-42', 'companyName' => 'Acme Freight GmbH', 'partnerType' => 'carrier',
        'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'contactName' => 'Ada Ops',
        'tradingAddress' => 'ZZ:ACMEFREIGHT', 'communities' => ['logistics-eu'], 'revision' => 1,
    ]);
    say("Acme Freight GmbH (Drupal user 42) now exists in Trading Grid as partner {$partner['partnerId']}.");
    $m = $client->memberships('drupal-user-42')['items'][0];
    say("It was put in the community '{$m['communityId']}'; its membership is {$m['status']} until the community manager approves.");

    step('2. The partner asks for access');
    $request = $client->requestAccess(['externalId' => 'drupal-user-42', 'communityId' => 'logistics-eu',
        'reason' => 'Carrier for EU road freight']);
    say("Access request {$request['requestId']} sent; status: {$request['status']}.");
    $changed = waitFor($client, 'access_request.changed', $cursor);
    say($changed ? "The network answered: access {$changed['data']['status']} (\"{$changed['data']['note']}\")."
        : 'No answer from the network yet.');
    $m = $client->memberships('drupal-user-42')['items'][0];
    say("Membership is now {$m['status']}: the portal would give the user the partner role and show the next step.");
    $training = waitFor($client, 'onboarding.training_completed', $cursor);
    if ($training) {
        say("The partner completed the training '{$training['data']['course']}' on the network; the portal marks the step done.");
    }

    step('3. A trading issue raised on the portal');
    $issue = $client->createIssue([
        'externalId' => 'drupal-node-9', 'type' => 'shipment_discrepancy', 'title' => '12 pallets short',
        'description' => 'The delivery note says 40 pallets; 28 arrived at dock 4.', 'partnerExternalId' => 'drupal-user-42',
        'priority' => 'high', 'references' => ['shipment' => 'SHP-1001', 'purchaseOrder' => 'PO-4711'],
    ]);
    say("Issue {$issue['issueId']} opened with Acme Freight (status {$issue['status']}).");
    $comment = waitFor($client, 'issue.comment_added', $cursor);
    if ($comment) {
        say("The partner replied: \"{$comment['data']['comment']['body']}\"");
    }
    $client->commentIssue($issue['issueId'], ['author' => 'Logistics desk', 'body' => 'Photos of the dock attached.']);
    $resolved = $client->setIssueStatus($issue['issueId'], 'resolved', 'Missing pallets delivered on 26 Nov.');
    say("The logistics team resolved it: \"{$resolved['resolution']}\".");
    try {
        $client->setIssueStatus($issue['issueId'], 'awaiting_partner');
    } catch (TradingGrid\ApiException $e) {
        say("Trading Grid refuses an illegal move (HTTP {$e->getStatus()}): {$e->getMessage()}");
    }

    step('4. A controlled document is published, superseded and retracted');
    $doc = ['documentId' => 'sop-loading', 'title' => 'Loading SOP', 'language' => 'en',
        'translations' => [['language' => 'de', 'title' => 'Verladeanweisung']],
        'audiences' => ['communities' => ['logistics-eu'], 'partnerTypes' => ['carrier']],
        'sha256' => hash('sha256', 'v1'), 'approved' => true, 'effectiveDate' => '2026-12-01'];
    $client->publishDocument($doc + ['version' => 1]);
    $v2 = $client->publishDocument(['sha256' => hash('sha256', 'v2')] + $doc + ['version' => 2]);
    say("Version 2 of the Loading SOP is published and supersedes version {$v2['supersedes']}.");
    try {
        $client->publishDocument(['approved' => false] + $doc + ['version' => 3]);
    } catch (TradingGrid\ValidationException $e) {
        say("An unapproved version never leaves the portal: {$e->getMessage()}");
    }
    $client->retractDocument('sop-loading', 'Replaced by the new warehouse manual');
    say('The document was retracted; every version is withdrawn from the partners.');

    step('5. Catalog, notifications and figures');
    $client->upsertCatalogItem(['itemId' => 'sku-1001', 'sku' => '1001', 'title' => 'Euro pallet 1200x800',
        'kind' => 'packaging', 'audiences' => ['partnerTypes' => ['carrier', 'supplier']], 'revision' => 1]);
    say('A packaging specification was published to carriers and suppliers.');
    $client->notify(['communityId' => 'logistics-eu', 'kind' => 'task', 'title' => 'Confirm winter schedule',
        'body' => 'Please confirm your December capacity.', 'dueDate' => '2026-12-05']);
    say('A task was posted to the Logistics EU community.');
    $client->sendPortalMetrics(['period' => date('Y-m-d'), 'figures' => ['contentViews' => 128, 'onboardingCompleted' => 1]]);
    $metrics = $client->metrics();
    say(sprintf('Network figures: %d issues (%d resolved), response rate %s.', $metrics['issues']['total'],
        $metrics['issues']['resolved'], $metrics['responseRate'] === null ? 'n/a' : round($metrics['responseRate'] * 100) . '%'));

    step('6. Delivery: many changes at once');
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

    step('7. What the network sent back');
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
