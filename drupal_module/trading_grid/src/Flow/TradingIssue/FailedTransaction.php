<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\TradingIssue;

/**
 * A business document Lens reports as failed (delivery failed, validation error),
 * described as the trading issue a person should work on. Plain PHP, no Drupal.
 */
final class FailedTransaction {

  /**
   * EDI transaction sets by what the business calls them.
   */
  private const DOCUMENTS = [
    '850' => 'Purchase order',
    '855' => 'Purchase order acknowledgement',
    '856' => 'Ship notice',
    '810' => 'Invoice',
    '820' => 'Remittance advice',
    '846' => 'Inventory advice',
    '997' => 'Functional acknowledgement',
    'ORDERS' => 'Purchase order',
    'DESADV' => 'Despatch advice',
    'INVOIC' => 'Invoice',
  ];

  private const SHIPMENT_DOCUMENTS = ['856', 'DESADV'];

  private const INVOICE_DOCUMENTS = ['810', 'INVOIC'];

  /**
   * Lens status codes of the failures the scan asks for.
   */
  private const FAILURES = [
    'F' => 'failed delivery',
    'V' => 'failed validation',
  ];

  /**
   * @param array<string, string> $contentKeys
   *   Content key name (lower case) → value.
   */
  private function __construct(
    public readonly string $transactionId,
    public readonly string $ediType,
    public readonly string $status,
    public readonly string $arrivedAt,
    public readonly string $senderAddress,
    public readonly string $receiverAddress,
    public readonly string $errorCode,
    public readonly string $errorMessage,
    public readonly string $correlationId,
    public readonly array $contentKeys,
  ) {}

  /**
   * Reads a Lens transaction; NULL when it has no transaction id.
   *
   * @param array<string, mixed> $t
   *   The transaction as Lens returns it.
   */
  public static function fromLens(array $t): ?self {
    $text = static fn (string $k): string => is_scalar($t[$k] ?? NULL) ? trim((string) $t[$k]) : '';
    if ($text('transactionid') === '') {
      return NULL;
    }
    $keys = [];
    foreach (is_array($t['contentkeys'] ?? NULL) ? $t['contentkeys'] : [] as $pair) {
      if (is_array($pair) && is_string($pair['key'] ?? NULL) && is_scalar($pair['value'] ?? NULL) && trim((string) $pair['value']) !== '') {
        $keys[strtolower($pair['key'])] = trim((string) $pair['value']);
      }
    }
    return new self(
      $text('transactionid'), strtoupper($text('editype')), $text('status'), $text('arrivaltime'),
      $text('senderaddress'), $text('receiveraddress'), $text('errorcode'),
      $text('externalerrormessage'), $text('correlationid'), $keys,
    );
  }

  /**
   * The purchase order number, if Lens has it.
   */
  public function purchaseOrder(): string {
    return self::clip($this->contentKeys['purchase order number'] ?? '', 64);
  }

  /**
   * The invoice number, if Lens has it.
   */
  public function invoice(): string {
    return self::clip($this->contentKeys['invoice number'] ?? '', 64);
  }

  /**
   * The shipment identification, if Lens has it.
   */
  public function shipment(): string {
    return self::clip($this->contentKeys['shipment identification'] ?? '', 64);
  }

  /**
   * The trading issue type: a ship notice is a shipment discrepancy, an invoice an
   * invoice dispute (each when it carries the number the network needs), any other
   * document that did not arrive is missing documentation.
   */
  public function issueType(): string {
    if (in_array($this->ediType, self::INVOICE_DOCUMENTS, TRUE) && $this->invoice() !== '') {
      return 'invoice_dispute';
    }
    if (in_array($this->ediType, self::SHIPMENT_DOCUMENTS, TRUE) && ($this->shipment() !== '' || $this->purchaseOrder() !== '')) {
      return 'shipment_discrepancy';
    }
    return 'missing_documentation';
  }

  /**
   * A failed delivery means the partner never got the document: high priority.
   */
  public function priority(): string {
    return $this->status === 'F' ? 'high' : 'normal';
  }

  /**
   * What the business calls the document: "Ship notice", "Invoice", "EDI 214 document".
   */
  public function documentName(): string {
    return self::DOCUMENTS[$this->ediType] ?? ($this->ediType !== '' ? 'EDI ' . $this->ediType . ' document' : 'Business document');
  }

  /**
   * The issue's title: "Ship notice SH-000042 failed delivery".
   */
  public function title(): string {
    $number = match ($this->issueType()) {
      'invoice_dispute' => $this->invoice(),
      'shipment_discrepancy' => $this->shipment() ?: $this->purchaseOrder(),
      default => $this->purchaseOrder() ?: $this->invoice() ?: $this->shipment(),
    };
    $what = self::FAILURES[$this->status] ?? 'needs attention';
    return self::clip(trim($this->documentName() . ' ' . $number) . ' ' . $what, 200);
  }

  /**
   * The issue's description, in words a buyer or a carrier understands.
   */
  public function description(): string {
    $lines = [sprintf(
      'Trading Grid (Lens) reports that %s %s %s%s.',
      strtolower($this->documentName()),
      $this->transactionId,
      self::FAILURES[$this->status] ?? 'needs attention (status ' . $this->status . ')',
      $this->arrivedAt !== '' ? ' (arrived ' . $this->arrivedAt . ')' : '',
    )];
    if ($this->errorCode !== '' || $this->errorMessage !== '') {
      $lines[] = 'Error: ' . trim($this->errorCode . ' ' . $this->errorMessage);
    }
    if ($this->senderAddress !== '' || $this->receiverAddress !== '') {
      $lines[] = sprintf('From %s to %s.', $this->senderAddress ?: 'an unknown sender', $this->receiverAddress ?: 'an unknown receiver');
    }
    foreach (['purchase order number' => 'Purchase order', 'invoice number' => 'Invoice', 'shipment identification' => 'Shipment'] as $key => $label) {
      if (isset($this->contentKeys[$key])) {
        $lines[] = $label . ': ' . $this->contentKeys[$key];
      }
    }
    if ($this->correlationId !== '') {
      $lines[] = 'Correlation id: ' . $this->correlationId;
    }
    return self::clip(implode("\n", $lines), 20000);
  }

  /**
   * The addresses to look the partner up by: sender first, then receiver.
   *
   * @return string[]
   *   Trading addresses.
   */
  public function addresses(): array {
    return array_values(array_unique(array_filter([$this->senderAddress, $this->receiverAddress])));
  }

  private static function clip(string $s, int $max): string {
    return mb_strlen($s) > $max ? rtrim(mb_substr($s, 0, $max - 1)) . '…' : $s;
  }

}
