<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Extension;

use PHPUnit\Framework\TestCase;
use TradingGrid\ApiException;
use TradingGrid\Tests\Sandbox;
use TradingGrid\ValidationException;

/**
 * A partner's network users and their roles, through the documented Community
 * Management routes: the immutable uniqueId is what the portal keeps, the loginId can
 * change under it.
 */
final class CompanyUsersTest extends TestCase
{
    private Sandbox $sandbox;
    private \TradingGrid\Client $client;
    private string $company;

    protected function setUp(): void
    {
        $this->sandbox = Sandbox::shared();
        $this->sandbox->reset();
        $this->client = $this->sandbox->client();
        $partner = $this->client->upsertPartner([
            'externalId' => 'drupal-user-42', 'companyName' => 'Acme Freight', 'partnerType' => 'carrier',
            'country' => 'DE', 'contactEmail' => 'ops@acme.example', 'revision' => 1,
        ]);
        $this->company = $partner['partnerId'];
    }

    /** The documented "Create User" body. */
    private function user(string $loginId): array
    {
        return [
            'loginId' => $loginId, 'firstName' => 'Ada', 'lastName' => 'Ops', 'type' => 'Web',
            'contactInformation' => ['email' => 'ada@acme.example', 'phoneNumber' => '5551212', 'faxNumber' => ''],
            'address' => ['addressLine1' => '1 Dock Road', 'addressLine2' => '', 'city' => 'Hamburg',
                'state' => 'HH', 'postalCode' => '20457', 'countryCode' => 'DE'],
            'preferredLanguage' => 'en', 'preferredTimezone' => 'Europe/Berlin', 'isConsentClause' => 'No',
        ];
    }

    private function assertNotFound(callable $call): void
    {
        try {
            $call();
            $this->fail('expected a 404');
        } catch (ApiException $e) {
            $this->assertSame(404, $e->getStatus());
            $this->assertSame('not-found', $e->getProblem()['error-code'] ?? null, (string) json_encode($e->getProblem()));
        }
    }

    public function testAUserIsFoundByUniqueIdAndLoginIdRenamedGivenRolesAndDeleted(): void
    {
        $c = $this->client;
        $created = $c->createCompanyUser($this->company, $this->user('ada@acme.example'));
        $this->assertSame(['uniqueId'], array_keys($created));
        $id = $created['uniqueId'];

        $byLogin = $c->companyUser($this->company, 'ada@acme.example');
        $this->assertSame($byLogin, $c->companyUser($this->company, $id));
        $this->assertSame($id, $byLogin['userId']);
        $this->assertSame('Hamburg', $byLogin['address']['city']);
        $listed = $c->companyUsers($this->company, 'ada@acme.example')['users'];
        $this->assertSame([['email' => 'ada@acme.example', 'firstName' => 'Ada', 'lastName' => 'Ops',
            'loginId' => 'ada@acme.example', 'userId' => $id]], $listed);

        // Partial: only the loginId and the city change; the stored uniqueId still works.
        $changed = $c->updateCompanyUser($this->company, $id, ['loginId' => 'ada.ops@acme.example', 'address' => ['city' => 'Bremen']]);
        $this->assertSame('ada.ops@acme.example', $changed['loginId']);
        $this->assertSame('Bremen', $changed['address']['city']);
        $this->assertSame('1 Dock Road', $changed['address']['addressLine1']);
        $this->assertSame('ada.ops@acme.example', $c->companyUser($this->company, $id)['loginId']);
        $this->assertNotFound(fn () => $c->companyUser($this->company, 'ada@acme.example'));
        $this->assertSame([], $c->companyUsers($this->company, 'ada@acme.example')['users']);

        $c->addCompanyUserRoles($this->company, 'ada.ops@acme.example', ['OCC User', 'Email2EDI custom']);
        $again = $c->addCompanyUserRoles($this->company, 'ada.ops@acme.example', ['OCC User']);
        $this->assertSame(['OCC User', 'Email2EDI custom'], array_column($again['roles'], 'roleName'), 'a role is held once');
        $left = $c->removeCompanyUserRoles($this->company, 'ada.ops@acme.example', ['OCC User', 'Never held']);
        $this->assertSame([['roleName' => 'Email2EDI custom']], $left['roles']);
        $this->assertSame($left, $c->companyUserRoles($this->company, 'ada.ops@acme.example'));
        $this->assertNotFound(fn () => $c->companyUserRoles($this->company, 'ada@acme.example'));

        $this->assertTrue($c->deleteCompanyUser($this->company, $id)['deleted']);
        $this->assertNotFound(fn () => $c->companyUser($this->company, $id));
        $this->assertNotFound(fn () => $c->deleteCompanyUser($this->company, $id));

        $types = array_column($c->events(null, 500)['events'], 'type');
        $this->assertSame(
            ['company_user.created', 'company_user.updated', 'company_user.roles_changed', 'company_user.roles_changed', 'company_user.deleted'],
            array_values(array_filter($types, static fn (string $t): bool => str_starts_with($t, 'company_user.'))),
        );
        $applied = $this->sandbox->stats()['applied'];
        $this->assertSame(1, $applied['company_user.create']);
        $this->assertSame(2, $applied['company_user.roles'], 'the repeated add changed nothing');
    }

    public function testInvalidFieldsAreNamedByTheirPathBeforeAnythingIsSent(): void
    {
        $c = $this->client;
        $user = $this->user('ada@acme.example');
        unset($user['contactInformation']['email']);
        $user['address']['countryCode'] = 'Germany';
        $user['nickname'] = 'ada';
        try {
            $c->createCompanyUser($this->company, $user);
            $this->fail('invalid');
        } catch (ValidationException $e) {
            $this->assertSame('user.contactInformation.email', $e->getField());
            $this->assertSame(['user.contactInformation.email', 'user.address.countryCode', 'user.nickname'],
                array_column($e->getErrors(), 'field'));
        }
        foreach ([
            'changes' => fn () => $c->updateCompanyUser($this->company, 'GCUS1', []),
            'changes.contactInformation.email' => fn () => $c->updateCompanyUser($this->company, 'GCUS1', ['contactInformation' => ['email' => 'nope']]),
            'roles' => fn () => $c->addCompanyUserRoles($this->company, 'ada@acme.example', []),
            'roleNames[1]' => fn () => $c->removeCompanyUserRoles($this->company, 'ada@acme.example', ['OCC User', 42]),
            'loginId' => fn () => $c->companyUserRoles($this->company, 'ada ops@acme.example'),
            'userIdOrLoginId' => fn () => $c->companyUser($this->company, '..'),
            'companyId' => fn () => $c->companyUsers('GC 1'),
        ] as $field => $call) {
            try {
                $call();
                $this->fail("$field must be refused");
            } catch (ValidationException $e) {
                $this->assertSame($field, $e->getField(), $e->getMessage());
            }
        }
        $this->assertSame(0, $this->sandbox->stats()['users']);
    }

    public function testALoginIdAlreadyTakenIsAConflictInTheDocumentedErrorShape(): void
    {
        $this->client->createCompanyUser($this->company, $this->user('ada@acme.example'));
        try {
            $this->client->createCompanyUser(Sandbox::TENANT, $this->user('Ada@Acme.example'));
            $this->fail('login ids are unique across the network, ignoring case');
        } catch (ApiException $e) {
            $this->assertSame(409, $e->getStatus());
            $problem = $e->getProblem();
            $this->assertEqualsCanonicalizing(['status', 'message', 'error-code'], array_keys($problem));
            $this->assertSame('conflict', $problem['error-code']);
            $this->assertStringContainsString('already taken', $e->getMessage());
        }
    }

    public function testACreateReplayedWithItsKeyReturnsTheFirstUniqueId(): void
    {
        $first = $this->client->createCompanyUser($this->company, $this->user('ada@acme.example'), 'outbox-17');
        $replay = $this->client->createCompanyUser($this->company, $this->user('ada@acme.example'), 'outbox-17');
        $this->assertSame($first, $replay, 'a replay is not a conflict');

        // The outbox sends the same row id again after a crash: the derived key matches.
        $op = ['id' => 'outbox-18', 'op' => 'company_user.create',
            'payload' => ['companyId' => $this->company, 'user' => $this->user('bob@acme.example')]];
        [$a] = $this->client->sendBatch([$op]);
        [$b] = $this->client->sendBatch([$op]);
        $this->assertTrue($a['ok'] && $b['ok'], (string) json_encode([$a, $b]));
        $this->assertSame($a['result']['uniqueId'], $b['result']['uniqueId']);

        $stats = $this->sandbox->stats();
        $this->assertSame(2, $stats['applied']['company_user.create']);
        $this->assertSame(2, $stats['duplicates']);
        $this->assertSame(2, $stats['users']);
    }

    public function testABatchCreatesUsersBeforeItGivesThemRoles(): void
    {
        $ops = [];
        foreach (range(1, 10) as $i) {
            $login = "user$i@acme.example";
            $ops[] = ['id' => "create-$i", 'op' => 'company_user.create',
                'payload' => ['companyId' => $this->company, 'user' => $this->user($login)]];
            $ops[] = ['id' => "roles-$i", 'op' => 'company_user.roles',
                'payload' => ['companyId' => $this->company, 'loginId' => $login, 'action' => 'add',
                    'roles' => [['roleName' => 'Partner Admin']]]];
        }
        $results = $this->client->sendBatch($ops);
        foreach ($results as $r) {
            $this->assertTrue($r['ok'], (string) json_encode($r));
        }
        $this->assertSame([['roleName' => 'Partner Admin']],
            $this->client->companyUserRoles($this->company, 'user7@acme.example')['roles']);
    }
}
