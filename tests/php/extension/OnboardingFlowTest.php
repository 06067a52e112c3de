<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\Tests\Sandbox;

/**
 * The first real flow end to end: registration data goes in, the partner is created and
 * assigned to its community, and membership and access status come back as events.
 */
final class OnboardingFlowTest extends TestCase
{
    private Sandbox $sandbox;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
    }

    private function registration(string $id, int $revision = 1): array
    {
        return [
            'externalId' => $id,
            'companyName' => 'Acme Freight GmbH',
            'partnerType' => 'carrier',
            'country' => 'DE',
            'contactEmail' => 'ops@acme.example',
            'contactName' => 'Ada Ops',
            'tradingAddress' => 'ZZ:ACMEFREIGHT',
            'communities' => ['logistics-eu'],
            'revision' => $revision,
        ];
    }

    public function testRegisteredPartnerBecomesAnActiveMemberThroughTheEventFeed(): void
    {
        $client = $this->sandbox->client();

        $partner = $client->upsertPartner($this->registration('drupal-user-42'));
        $this->assertTrue($partner['applied']);
        $this->assertMatchesRegularExpression('/^GC\w+$/', $partner['partnerId']);

        $memberships = $client->memberships('drupal-user-42')['items'];
        $this->assertSame('logistics-eu', $memberships[0]['communityId']);
        $this->assertSame('pending', $memberships[0]['status']);

        $request = $client->requestAccess([
            'externalId' => 'drupal-user-42',
            'communityId' => 'logistics-eu',
            'reason' => 'Carrier for EU lanes',
        ]);
        $this->assertSame('pending', $request['status']);

        $this->sandbox->admin('POST', '/_sandbox/access-requests/' . $request['requestId'] . '/decision', [
            'status' => 'approved',
            'note' => 'Welcome aboard',
        ]);
        $this->assertSame('approved', $client->getAccessRequest($request['requestId'])['status']);

        // Everything comes back through the cursor-paged feed, in order, page by page.
        $types = [];
        $cursor = null;
        do {
            $page = $client->events($cursor, 2);
            foreach ($page['events'] as $event) {
                $types[] = $event['type'];
            }
            $cursor = $page['nextCursor'] ?? $cursor;
        } while ($page['hasMore']);
        $this->assertContains('partner.created', $types);
        $this->assertContains('access_request.created', $types);
        $this->assertContains('access_request.changed', $types);
        $this->assertContains('membership.changed', $types);

        $active = array_filter(
            $client->memberships('drupal-user-42')['items'],
            static fn (array $m): bool => $m['communityId'] === 'logistics-eu' && $m['status'] === 'active',
        );
        $this->assertCount(1, $active, 'approval makes the membership active');
    }

    public function testAnOlderRevisionNeverOverwritesANewerOne(): void
    {
        $client = $this->sandbox->client();
        $newer = $this->registration('drupal-user-7', 5);
        $newer['companyName'] = 'Newer Name Ltd';
        $client->upsertPartner($newer);

        $older = $this->registration('drupal-user-7', 3);
        $older['companyName'] = 'Older Name Ltd';
        $answer = $client->upsertPartner($older);

        $this->assertFalse($answer['applied']);
        $this->assertSame('stale_revision', $answer['reason']);
        $this->assertSame('Newer Name Ltd', $client->getPartner('drupal-user-7')['companyName']);
    }
}
