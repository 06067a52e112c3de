<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\ApiException;
use TradingGrid\Tests\Sandbox;
use TradingGrid\ValidationException;

/** Every business flow end to end between PHP and the sandbox. */
final class FlowsTest extends TestCase
{
    private Sandbox $sandbox;
    private \TradingGrid\Client $client;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
        $this->client = $this->sandbox->client();
        $this->client->upsertPartner([
            'externalId' => 'drupal-user-42', 'companyName' => 'Acme Freight', 'partnerType' => 'carrier',
            'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'communities' => ['logistics-eu'], 'revision' => 1,
        ]);
    }

    /** @return array<string,list<array>> events by type */
    private function events(): array
    {
        $byType = [];
        $cursor = null;
        do {
            $page = $this->client->events($cursor, 500);
            foreach ($page['events'] as $e) {
                $byType[$e['type']][] = $e;
            }
            $cursor = $page['nextCursor'];
        } while ($page['hasMore']);
        return $byType;
    }

    public function testTradingIssueTravelsBothWays(): void
    {
        $issue = $this->client->createIssue([
            'externalId' => 'drupal-node-9', 'type' => 'invoice_dispute', 'title' => 'Short payment',
            'description' => 'Invoice INV-88 paid 10% short.', 'partnerExternalId' => 'drupal-user-42',
            'priority' => 'urgent', 'references' => ['invoice' => 'INV-88', 'purchaseOrder' => 'PO-1'],
            'attachments' => [['name' => 'remittance.pdf', 'sha256' => hash('sha256', 'pdf'), 'size' => 1234]],
        ]);
        $this->assertSame('open', $issue['status']);
        $id = $issue['issueId'];

        $this->client->commentIssue($id, ['author' => 'AP clerk', 'body' => 'Please check the remittance.', 'externalId' => 'drupal-comment-1']);
        // The network side answers and moves the issue.
        $this->sandbox->admin('POST', "/_sandbox/issues/$id/network", ['comment' => 'Deduction was for damaged goods.', 'status' => 'awaiting_partner']);
        $this->client->setIssueStatus($id, 'in_progress');
        $this->client->setIssueStatus($id, 'resolved', 'Credit note CN-5 issued.');

        $full = $this->client->getIssue($id);
        $this->assertSame('resolved', $full['status']);
        $this->assertSame('Credit note CN-5 issued.', $full['resolution']);
        $this->assertSame(['portal', 'network'], array_column($full['comments'], 'origin'));

        $events = $this->events();
        $this->assertCount(2, $events['issue.comment_added']);
        $this->assertSame('network', $events['issue.comment_added'][1]['data']['origin']);
        $this->assertSame(['awaiting_partner', 'in_progress', 'resolved'], array_map(
            static fn (array $e): string => $e['data']['to'], $events['issue.status_changed']));

        try {
            $this->client->setIssueStatus($id, 'awaiting_partner');
            $this->fail('resolved → awaiting_partner is illegal');
        } catch (ApiException $e) {
            $this->assertSame(409, $e->getStatus());
        }
        // A refused network-side change leaves nothing behind: no comment, no status.
        $refused = $this->sandbox->admin('POST', "/_sandbox/issues/$id/network", ['comment' => 'Reopening?', 'status' => 'awaiting_partner']);
        $this->assertSame(409, $refused['status'] ?? null, (string) json_encode($refused));
        $this->assertCount(2, $this->client->getIssue($id)['comments']);
        $this->expectException(ValidationException::class);
        $this->expectExceptionMessage('resolution: is required when the status is resolved');
        $this->client->setIssueStatus($id, 'resolved');
    }

    private function doc(int $version, string $content, bool $approved = true): array
    {
        return ['documentId' => 'sop-7', 'version' => $version, 'title' => 'Loading SOP', 'language' => 'en',
            'translations' => [['language' => 'de', 'title' => 'Verladeanweisung', 'sha256' => hash('sha256', "$content-de")]],
            'audiences' => ['communities' => ['logistics-eu'], 'partnerTypes' => ['carrier']],
            'sha256' => hash('sha256', $content), 'approved' => $approved, 'effectiveDate' => '2026-12-01'];
    }

    public function testControlledDocumentsPublishSupersedeRefuseOlderAndRetract(): void
    {
        $this->client->publishDocument($this->doc(1, 'one'));
        $second = $this->client->publishDocument($this->doc(2, 'two'));
        $this->assertSame(1, $second['supersedes']);
        $again = $this->client->publishDocument($this->doc(2, 'two'));
        $this->assertFalse($again['applied'], 'republishing the same version is a no-op');
        try {
            $this->client->publishDocument($this->doc(1, 'one-b'));
            $this->fail('an older version must be refused');
        } catch (ApiException $e) {
            $this->assertSame(409, $e->getStatus());
        }
        try {
            $this->client->publishDocument($this->doc(3, 'three', false));
            $this->fail('an unapproved version must never be sent');
        } catch (ValidationException $e) {
            $this->assertSame('approved', $e->getField());
        }
        $doc = $this->client->getDocument('sop-7');
        $this->assertSame('superseded', $doc['versions']['1']['status']);
        $this->assertSame('published', $doc['versions']['2']['status']);

        $this->client->retractDocument('sop-7', 'Withdrawn by quality');
        $this->assertSame('retracted', $this->client->getDocument('sop-7')['status']);
        $events = $this->events();
        $this->assertCount(2, $events['document.published']);
        $this->assertCount(1, $events['document.superseded']);
        $this->assertCount(1, $events['document.retracted']);
    }

    public function testOnboardingStepsGoOutAndCompletionsComeBack(): void
    {
        $step = $this->client->recordOnboardingStep('drupal-user-42', 'company-profile', ['status' => 'completed', 'completedAt' => '2026-11-25T08:00:00Z']);
        $this->assertSame('completed', $step['status']);
        $this->assertSame('company-profile', $this->client->onboarding('drupal-user-42')['items'][0]['stepId']);
        foreach (['onboarding.training_completed', 'onboarding.acknowledged', 'document.accepted'] as $type) {
            $this->sandbox->admin('POST', '/_sandbox/events', ['type' => $type, 'data' => ['externalId' => 'drupal-user-42', 'stepId' => 'training']]);
        }
        $events = $this->events();
        foreach (['onboarding.step_recorded', 'onboarding.training_completed', 'onboarding.acknowledged', 'document.accepted'] as $type) {
            $this->assertArrayHasKey($type, $events, $type);
        }
        $this->assertSame('drupal-user-42', $events['onboarding.training_completed'][0]['data']['externalId']);
    }

    public function testCatalogItemsArePublishedRevisionGuardedAndWithdrawn(): void
    {
        $item = ['itemId' => 'sku-9', 'sku' => '9', 'title' => 'Pallet spec', 'kind' => 'specification',
            'audiences' => ['partnerTypes' => ['supplier']], 'revision' => 2];
        $this->assertTrue($this->client->upsertCatalogItem($item)['applied']);
        $stale = $this->client->upsertCatalogItem(['revision' => 1, 'title' => 'Old'] + $item);
        $this->assertSame('stale_revision', $stale['reason']);
        $this->assertTrue($this->client->withdrawCatalogItem('sku-9')['applied']);
        $this->assertArrayHasKey('catalog.withdrawn', $this->events());
    }

    public function testKnowledgeAndAnnouncementsComeBackAsEventsAndCanBeFetched(): void
    {
        $this->sandbox->admin('POST', '/_sandbox/knowledge', ['kind' => 'resolution', 'title' => 'How to fix ASN mismatches',
            'body' => 'Resend the ASN with the corrected SSCC.', 'topic' => 'edi', 'region' => 'EU', 'partnerTypes' => ['supplier']]);
        $events = $this->events();
        $articleId = $events['knowledge.published'][0]['data']['articleId'];
        $article = $this->client->getKnowledge($articleId);
        $this->assertSame('edi', $article['topic']);
        $this->assertSame('EU', $article['region']);
        $this->assertSame(['supplier'], $article['partnerTypes']);
    }

    public function testNotificationsBothWaysAndMetricsFromRealState(): void
    {
        $n = $this->client->notify(['communityId' => 'logistics-eu', 'kind' => 'task', 'title' => 'Confirm capacity', 'body' => 'December']);
        $this->assertArrayHasKey('notificationId', $n);
        $this->sandbox->admin('POST', '/_sandbox/events', ['type' => 'notification.dispute_overdue', 'data' => ['issueId' => 'TI1']]);
        $this->assertArrayHasKey('notification.dispute_overdue', $this->events());

        $issue = $this->client->createIssue(['externalId' => 'n-1', 'type' => 'other', 'title' => 'Question',
            'description' => 'Where is the manual?', 'partnerExternalId' => 'drupal-user-42']);
        $this->sandbox->admin('POST', "/_sandbox/issues/{$issue['issueId']}/network", ['comment' => 'Here.']);
        $this->client->setIssueStatus($issue['issueId'], 'resolved', 'Answered');
        $this->client->sendPortalMetrics(['period' => '2026-11-24', 'figures' => ['contentViews' => 10, 'acknowledgements' => 5]]);

        $m = $this->client->metrics();
        $this->assertSame(1, $m['issues']['resolved']);
        $this->assertEquals(1.0, $m['responseRate']);
        $this->assertSame(10, $m['portal']['2026-11-24']['contentViews']);
        $eu = array_values(array_filter($m['participation'], static fn (array $p): bool => $p['communityId'] === 'logistics-eu'))[0];
        $this->assertSame(1, $eu['members']);
    }

    public function testSimulatedPartnersAnswerWithoutAnyoneTyping(): void
    {
        $sandbox = Sandbox::start(['--simulate-partners']);
        try {
            $client = $sandbox->client();
            $client->upsertPartner(['externalId' => 'sim-1', 'companyName' => 'Sim Co', 'partnerType' => 'supplier',
                'country' => 'FR', 'contactEmail' => 'a@sim.example', 'communities' => ['suppliers-global'], 'revision' => 1]);
            $client->requestAccess(['externalId' => 'sim-1', 'communityId' => 'suppliers-global']);
            $client->createIssue(['externalId' => 'sim-issue', 'type' => 'missing_documentation', 'title' => 'CoC missing',
                'description' => 'Certificate of conformity missing', 'partnerExternalId' => 'sim-1']);
            $deadline = microtime(true) + 5;
            $seen = [];
            while (microtime(true) < $deadline && count($seen) < 4) {
                foreach ($client->events(null, 500)['events'] as $e) {
                    $seen[$e['type']] = true;
                }
                $seen = array_intersect_key($seen, array_flip(['access_request.changed', 'onboarding.training_completed', 'issue.comment_added', 'notification.partner_response']));
                usleep(100000);
            }
            $this->assertCount(4, $seen, 'simulated partners answered: ' . implode(', ', array_keys($seen)));
        } finally {
            $sandbox->stop();
        }
    }

    public function testSignedWebhookDeliveriesAreVerifiedByTheExtension(): void
    {
        $received = tempnam(sys_get_temp_dir(), 'tgwh');
        $secret = 'whsec_0123456789abcdef';
        $port = 20000 + random_int(0, 20000);
        $env = ['TG_WEBHOOK_SECRET' => $secret, 'TG_RECEIVED' => $received, 'PATH' => getenv('PATH')];
        $cmd = [PHP_BINARY, '-d', 'extension=' . getenv('TG_EXTENSION'), '-S', "127.0.0.1:$port", dirname(__DIR__) . '/fixtures/webhook-receiver.php'];
        $server = proc_open($cmd, [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
        try {
            usleep(300000);
            $this->client->subscribeWebhook("http://127.0.0.1:$port/", $secret);
            $this->client->notify(['communityId' => 'logistics-eu', 'kind' => 'notice', 'title' => 'Hello', 'body' => 'World']);
            $deadline = microtime(true) + 5;
            $lines = [];
            while (microtime(true) < $deadline) {
                $lines = array_filter(explode("\n", (string) file_get_contents($received)));
                if ($lines) {
                    break;
                }
                usleep(100000);
            }
            $this->assertNotEmpty($lines, 'a delivery arrived');
            $event = json_decode(array_values($lines)[0], true);
            $this->assertSame('notification.posted', $event['type'] ?? null, (string) json_encode($event));
        } finally {
            proc_terminate($server);
            proc_close($server);
            @unlink($received);
        }
    }
}
