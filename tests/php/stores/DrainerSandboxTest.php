<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Delivery\ExtensionSender;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Sync\ReferenceResolvingSender;
use TradingGrid\Tests\Sandbox;

/**
 * The delivery loop end to end: outbox rows in a real database, sent by the real
 * extension to a real tg-sandbox. Runs when the extension is loaded
 * (store-tests.sh passes -d extension=target/debug/libtrading_grid.so).
 */
final class DrainerSandboxTest extends StoreTestCase
{
    private Sandbox $sandbox;
    private Outbox $outbox;
    private LinkStore $links;

    protected function setUp(): void
    {
        $this->sandbox = $this->resetSandbox();
        parent::setUp();
        $this->outbox = new Outbox($this->pdo, self::PREFIX, $this->clock(), 5, 1, 10);
        $this->links = new LinkStore($this->pdo, self::PREFIX, $this->clock());
    }

    protected function tearDown(): void
    {
        if (isset($this->sandbox)) {
            $calm = ['errorRate' => 0, 'rateLimitRate' => 0, 'resetRate' => 0];
            $this->sandbox->admin('POST', '/_sandbox/faults', $calm);
        }
        parent::tearDown();
    }

    private function drainer(): Drainer
    {
        $sender = new ExtensionSender(fn (): \TradingGrid\Client => $this->sandbox->client(['maxRetries' => 6]));
        return new Drainer($this->outbox, $sender, $this->links);
    }

    private function enqueuePartner(int $user, int $revision, string $partnerType = 'supplier'): int
    {
        return $this->outbox->enqueue('partner.upsert', [
            'externalId' => "drupal-user-$user",
            'companyName' => "Supplier $user",
            'partnerType' => $partnerType,
            'country' => 'NL',
            'contactEmail' => "buyer$user@supplier.example",
            'revision' => $revision,
        ], "partner:drupal-user-$user", 'partner', 'user', (string) $user);
    }

    public function testOutboxRowsReachTheSandboxAndLinkTheirEntities(): void
    {
        foreach (range(1, 12) as $i) {
            $this->enqueuePartner($i, 1);
        }
        $this->enqueuePartner(3, 2);
        $invalid = $this->enqueuePartner(13, 1, 'pirate');

        $report = $this->drainer()->drain('e2e', 20.0, 5);

        $this->assertSame(12, $report->sent, json_encode($report->toArray()));
        $this->assertSame(1, $report->dead);
        $this->assertSame(12, $this->sandbox->stats()['applied']['partner.upsert'] ?? null);
        $this->assertSame(
            2,
            $this->sandbox->client()->getPartner('drupal-user-3')['revision'],
            'the coalesced save sent the latest state'
        );

        $link = $this->links->get('user', '7', 'partner');
        $this->assertSame('synced', $link['status']);
        $this->assertMatchesRegularExpression('/^GC\d+$/', (string) $link['remoteId']);
        $this->assertSame('7', $this->links->findByRemote('partner', $link['remoteId'])['entityId']);

        $dead = $this->outbox->get($invalid);
        $this->assertSame('dead', $dead['status']);
        $this->assertSame('validation', $dead['errorClass']);
        $this->assertStringContainsString('partnerType', (string) $dead['lastError']);
        $this->assertSame('dead', $this->links->get('user', '13', 'partner')['status']);
    }

    public function testARowSentAgainAfterACrashIsAbsorbedByTheIdempotencyKey(): void
    {
        $this->outbox->enqueue(
            'notification.create',
            ['communityId' => 'logistics-eu', 'kind' => 'notice',
            'title' => 'Dock 4 closed', 'body' => 'Dock 4 is closed on Friday.'],
            'notification:logistics-eu',
            'notification'
        );
        // A worker sends the row and dies before it can complete it.
        $rows = $this->outbox->claim('crashing', 10, 30);
        $sent = (new ExtensionSender($this->sandbox->client()))->sendBatch(array_map(
            static fn ($row): array => $row->toOperation(),
            $rows,
        ));
        $this->assertTrue($sent[0]['ok'], json_encode($sent[0]['error']));

        $this->now += 31;
        $report = $this->drainer()->drain('survivor');

        $this->assertSame(1, $report->sent);
        $this->assertSame(0, $this->outbox->count());
        $stats = $this->sandbox->stats();
        $this->assertSame(1, $stats['applied']['notification.create'], 'created once');
        $this->assertSame(1, $stats['duplicates'], 'the second send was recognised as a replay');
    }

    public function testTransientFaultsAreRetriedUntilEverythingLands(): void
    {
        $this->sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0.3, 'rateLimitRate' => 0.1,
            'writesOnly' => true]);
        foreach (range(1, 20) as $i) {
            $this->enqueuePartner($i, 1);
        }
        $sent = 0;
        for ($round = 0; $round < 20 && $this->outbox->count() > 0; $round++) {
            $sent += $this->drainer()->drain('e2e', 10.0, 10)->sent;
            $this->now += 60;
        }
        $this->assertSame(20, $sent);
        $this->assertSame(0, $this->outbox->count());
        $this->assertSame(20, $this->sandbox->stats()['applied']['partner.upsert']);
    }

    public function testANetworkUserFollowsItsPartnerThroughReferencesFilledInAtSendTime(): void
    {
        // What NetworkUsers writes for account 7: its ops on a key of their own, the
        // partner company and the user id unknown when written.
        $key = 'network_user:drupal-user-7';
        $company = 'ref:partner:user:7';
        $this->enqueuePartner(7, 1);
        $this->outbox->enqueue('company_user.create', ['companyId' => $company, 'user' => [
            'loginId' => 'ada@supplier.example', 'firstName' => 'Ada', 'lastName' => 'Ops', 'type' => 'Web',
            'contactInformation' => ['email' => 'ada@supplier.example'],
        ]], $key, 'network_user', 'user', '7');
        $this->outbox->enqueue('company_user.roles', ['companyId' => $company, 'loginId' => 'ada@supplier.example',
            'action' => 'add', 'roles' => [['roleName' => 'Partner User']]], $key, 'network_user', 'user', '7');
        $this->outbox->enqueue('company_user.update', ['companyId' => $company, 'userId' => 'ref:network_user:user:7',
            'changes' => ['loginId' => 'ada.ops@supplier.example', 'contactInformation' => ['email' => 'ada.ops@supplier.example']]],
            $key, 'network_user', 'user', '7');

        $sender = new ReferenceResolvingSender(
            new ExtensionSender(fn (): \TradingGrid\Client => $this->sandbox->client()),
            $this->links,
        );
        $drainer = new Drainer($this->outbox, $sender, $this->links);
        for ($round = 0; $round < 5 && $this->outbox->count() > 0; $round++) {
            $drainer->drain('e2e', 10.0, 10);
            $this->now += 61; // a reference not known yet is retried after a minute
        }
        $this->assertSame(0, $this->outbox->count(), json_encode($this->outbox->list()));

        $partnerId = $this->links->get('user', '7', 'partner')['remoteId'];
        $userLink = $this->links->get('user', '7', 'network_user');
        $this->assertSame('synced', $userLink['status']);
        $client = $this->sandbox->client();
        $user = $client->companyUser($partnerId, $userLink['remoteId']);
        $this->assertSame('ada.ops@supplier.example', $user['loginId'], 'the update reached the user by its stored id');
        $roles = $client->companyUserRoles($partnerId, 'ada.ops@supplier.example');
        $this->assertSame(['Partner User'], array_column($roles['roles'], 'roleName'));

        // Deleted with the account; a delete whose user is already gone is done, not dead.
        foreach ([1, 2] as $_) {
            $this->outbox->enqueue('company_user.delete', ['companyId' => $partnerId, 'userId' => $userLink['remoteId']],
                $key, 'network_user', 'user', '7');
            $report = $drainer->drain('e2e', 10.0, 10);
            $this->assertSame(1, $report->sent, json_encode($report->toArray()));
        }
        $this->assertSame('withdrawn', $this->links->get('user', '7', 'network_user')['status']);
        $this->assertSame(1, $this->sandbox->stats()['applied']['company_user.delete']);
    }
}
